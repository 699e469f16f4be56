import type { StreamExecContainerResponse } from "../gen/meshexec/v1/exec.js";
import type { OutputStreamName } from "./live-output.js";

/**
 * Bytes of output events one streamed call may have written and not yet sent on (its reader is
 * slow, or its network is). Past it the call gets one output_dropped event and no more output
 * events; its results, which carry the whole kept output, still come. Without it a reader that
 * stops reading would make the router hold every byte every host writes (up to --max-fanout-output).
 */
export const LIVE_OUTPUT_QUEUE_LIMIT_BYTES = 1024 * 1024;

/** The writable half of a server-streaming call, as much of it as this needs. */
interface EventWriter {
  write(event: StreamExecContainerResponse, done: () => void): boolean;
}

/** Writes one streamed call's output events while what waits to be sent stays under the limit. */
export class LiveOutputQueue {
  private queuedBytes = 0;
  private dropped = false;

  constructor(
    private readonly call: EventWriter,
    private readonly limitBytes = LIVE_OUTPUT_QUEUE_LIMIT_BYTES,
  ) {}

  write(hostname: string, stream: OutputStreamName, data: string): void {
    if (this.dropped) return;
    const bytes = Buffer.byteLength(data);
    if (this.queuedBytes + bytes > this.limitBytes) {
      this.dropped = true;
      this.call.write({ event: { $case: "outputDropped", value: { queueLimitBytes: this.limitBytes } } }, () => {});
      return;
    }
    this.queuedBytes += bytes;
    // The callback runs once grpc-js has handed the message to HTTP/2, which sends it as the reader's window allows.
    this.call.write({ event: { $case: "output", value: { hostname, stream, data } } }, () => (this.queuedBytes -= bytes));
  }
}
