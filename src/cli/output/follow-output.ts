import type { HostResult } from "../client/api-types.js";

type StreamName = "stdout" | "stderr";

/** What marks a line's stream after the host: `web-1 | out`, `web-1 ! err`. Same width, so columns stay aligned. */
const STREAM_MARK: Record<StreamName, string> = { stdout: "|", stderr: "!" };

/**
 * Prints live output (exec --follow) a line at a time as it arrives, each prefixed with its host
 * padded to the longest hostname (`web-1  | …`), so many hosts' lines interleave readably. A host's
 * unfinished last line is printed when its result comes. When the edge stops sending output
 * (the reader fell behind: output_dropped), each host's rest is printed from its result instead.
 */
export class FollowOutput {
  private width = 0;
  private readonly partial = new Map<string, string>();
  /** Characters of each host's stream printed so far, to print only the rest from its result. */
  private readonly printed = new Map<string, number>();
  private dropped = false;

  constructor(private readonly out: NodeJS.WritableStream = process.stdout) {}

  hosts(hostnames: readonly string[]): void {
    for (const hostname of hostnames) this.width = Math.max(this.width, hostname.length);
  }

  output(hostname: string, stream: StreamName, data: string): void {
    if (this.dropped) return;
    const key = `${hostname}\0${stream}`;
    this.printed.set(key, (this.printed.get(key) ?? 0) + data.length);
    const text = (this.partial.get(key) ?? "") + data;
    const end = text.lastIndexOf("\n");
    if (end < 0) return void this.partial.set(key, text);
    this.partial.set(key, text.slice(end + 1));
    this.writeLines(hostname, stream, text.slice(0, end));
  }

  /** No more output events come; results fill in the rest. */
  outputDropped(): void {
    this.dropped = true;
  }

  result(result: HostResult): void {
    for (const stream of ["stdout", "stderr"] as const) {
      const key = `${result.hostname}\0${stream}`;
      const rest = (this.partial.get(key) ?? "") + (this.dropped ? result[stream].slice(this.printed.get(key) ?? 0) : "");
      this.partial.delete(key);
      if (rest !== "") this.writeLines(result.hostname, stream, rest.endsWith("\n") ? rest.slice(0, -1) : rest);
      if (result[`${stream}_truncated`]) this.writeLines(result.hostname, stream, `[${stream} truncated]`);
    }
  }

  private writeLines(hostname: string, stream: StreamName, text: string): void {
    this.width = Math.max(this.width, hostname.length);
    const prefix = `${hostname.padEnd(this.width)} ${STREAM_MARK[stream]} `;
    this.out.write(`${prefix}${text.split("\n").join(`\n${prefix}`)}\n`);
  }
}
