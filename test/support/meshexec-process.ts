import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { waitFor } from "./wait-for.js";

export const CLI = new URL("../../dist/src/cli/main.js", import.meta.url).pathname;

export type LogLine = Record<string, unknown> & { msg?: string };

/** A `meshexec` subcommand running as a real child process, with its JSON log lines collected. */
export class MeshexecProcess {
  readonly logs: LogLine[] = [];
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    this.exited = once(child, "exit").then(([code, signal]) => ({ code, signal }));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      try {
        this.logs.push(JSON.parse(line));
      } catch {
        this.logs.push({ msg: line });
      }
    });
    child.stderr!.on("data", (chunk) => (this.stderr += chunk));
  }

  static spawn(name: string, args: string[], env: Record<string, string> = {}): MeshexecProcess {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, MESHEXEC_LOG_LEVEL: "debug", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    return new MeshexecProcess(name, child);
  }

  /** Waits for a log line with this msg (and matching fields, if given). */
  waitForLog(msg: string, match: (line: LogLine) => boolean = () => true, timeoutMs = 10_000): Promise<LogLine> {
    return waitFor(
      `${this.name} to log "${msg}"`,
      () => {
        if (this.child.exitCode !== null) throw new Error(`${this.name} exited with ${this.child.exitCode}: ${this.stderr}`);
        return this.logs.find((line) => line.msg === msg && match(line));
      },
      timeoutMs,
    );
  }

  /** Resolves with the port the process logged it listens on. */
  async listeningPort(msg: string): Promise<number> {
    return Number((await this.waitForLog(msg)).port);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }
}
