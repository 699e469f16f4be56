import type { HostOutcome } from "./agent-session.js";
import { envScrubberOf } from "./scrub-env.js";

export interface OutputBounds {
  /** The exec's env: its values are masked in everything a host sends back (see scrub-env.ts). */
  env: readonly string[];
  /** Bytes of stdout and of stderr kept per host: the agents' --output-limit, as the router's --agent-output-limit says. */
  hostOutputLimitBytes: number;
  /** Bytes of stdout and stderr kept for the whole exec, over all its hosts (--max-fanout-output). */
  totalOutputLimitBytes: number;
}

/**
 * What the router keeps of each host's answer, for one exec: env values masked, then each stream
 * cut to the per-host cap (an agent that ignores its own cap gets no more kept), then charged to
 * the exec's total, so `_all` over thousands of chatty hosts keeps at most the total. A host past
 * the total keeps what was left of it and is flagged truncated, like a host past its own cap.
 * Hosts are charged in the order they answer.
 */
export class KeptOutput {
  private remainingBytes: number;
  private readonly scrub?: (text: string) => string;

  constructor(private readonly bounds: OutputBounds) {
    this.remainingBytes = bounds.totalOutputLimitBytes;
    this.scrub = envScrubberOf(bounds.env);
  }

  /** Changes the outcome in place (it is this exec's own decoded reply) and returns it. */
  keep(outcome: HostOutcome): HostOutcome {
    if (outcome.$case === "failed") {
      if (this.scrub) outcome.value.message = this.scrub(outcome.value.message);
      return outcome;
    }
    if (outcome.$case !== "completed") return outcome;
    const run = outcome.value;
    if (this.scrub) {
      run.stdout = this.scrub(run.stdout);
      run.stderr = this.scrub(run.stderr);
    }
    const stdout = this.cut(run.stdout);
    run.stdout = stdout.text;
    run.stdoutTruncated ||= stdout.truncated;
    const stderr = this.cut(run.stderr);
    run.stderr = stderr.text;
    run.stderrTruncated ||= stderr.truncated;
    return outcome;
  }

  private cut(text: string): { text: string; truncated: boolean } {
    if (text === "") return { text, truncated: false };
    const limit = Math.min(this.bounds.hostOutputLimitBytes, this.remainingBytes);
    const bytes = Buffer.byteLength(text);
    if (bytes <= limit) {
      this.remainingBytes -= bytes;
      return { text, truncated: false };
    }
    const kept = cutToBytes(text, limit);
    this.remainingBytes -= Buffer.byteLength(kept);
    return { text: kept, truncated: true };
  }
}

/** The longest prefix of `text` that fits in `maxBytes` of UTF-8, never ending in half a character. */
export function cutToBytes(text: string, maxBytes: number): string {
  if (maxBytes <= 0) return "";
  const cut = Buffer.from(text).subarray(0, maxBytes).toString();
  return cut.endsWith("\uFFFD") && !text.startsWith(cut) ? cut.slice(0, -1) : cut;
}
