import type { IncomingMessage } from "node:http";
import { CliFailure, ExitCode } from "../exit-codes.js";
import type { ExecResponse, ExecStreamEvent, HostResult } from "./api-types.js";
import { apiFailure, type GatewayClient } from "./gateway-client.js";

/** What a caller hears while the reply streams in: the job's acceptance, then each host as it finishes. */
export interface ExecReplyObserver {
  accepted(jobId: string, hosts: readonly string[]): void;
  /** The last of `done` is the host that just finished. */
  hostDone(done: readonly HostResult[], targeted: number): void;
  /** Live output (unless the request said output=false). */
  output?(hostname: string, stream: "stdout" | "stderr", data: string): void;
  outputDropped?(): void;
}

/**
 * Reads an exec's reply as the same `{job_id, results}` whichever way it came: an NDJSON stream
 * (each host as it finishes) or one JSON body (edges without streaming). The Content-Type decides.
 */
export async function readExecReply(client: GatewayClient, response: IncomingMessage, observer: ExecReplyObserver): Promise<ExecResponse> {
  if (!/^application\/x-ndjson\b/i.test(response.headers["content-type"] ?? "")) {
    return client.parse<ExecResponse>(await client.readText(response));
  }
  let jobId = "";
  let targeted = 0;
  let summarized = false;
  const results: HostResult[] = [];
  for await (const line of client.readLines(response)) {
    if (!line.trim()) continue;
    const event = client.parse<ExecStreamEvent>(line);
    if (event.type === "accepted") {
      jobId = event.job_id;
      // _any names no host up front: it runs on exactly one.
      targeted = event.hosts.length || 1;
      observer.accepted(jobId, event.hosts);
    } else if (event.type === "result") {
      results.push(event.result);
      observer.hostDone(results, targeted);
    } else if (event.type === "output") {
      observer.output?.(event.hostname, event.stream, event.data);
    } else if (event.type === "output_dropped") {
      observer.outputDropped?.();
    } else if (event.type === "summary") {
      summarized = true;
    } else if (event.type === "error") {
      throw apiFailure(event, event.code);
    }
  }
  if (!summarized) {
    throw new CliFailure(`the edge's stream ended before its summary, with ${results.length} of ${targeted} hosts done`, ExitCode.unavailable);
  }
  // Streamed in the order hosts finished; shown in the order a plain reply has, by hostname.
  return { job_id: jobId, results: results.sort((a, b) => a.hostname.localeCompare(b.hostname)) };
}
