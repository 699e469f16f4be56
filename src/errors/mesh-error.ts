// Only grpc-js's status codes, not its index: that loads its whole HTTP/2 stack, ~35 ms of every
// CLI start (measured on Node 20), for commands that only speak REST.
import { Status as status } from "@grpc/grpc-js/build/src/constants.js";

/**
 * A failure reported the same way by every layer: as a gRPC status to gRPC callers, and as
 * `{error, details, code}` with the mapped HTTP status at the edge.
 * `error` is a short sentence; `details` says exactly what was wrong (field, value, limit).
 */
export class MeshError extends Error {
  /** When a retry may succeed, in whole seconds (Retry-After over REST); only for refusals that pass. */
  readonly retryAfterSeconds?: number;

  constructor(
    readonly code: status,
    readonly error: string,
    readonly details: string,
    options: { retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(`${error}: ${details}`, { cause: options.cause });
    this.name = "MeshError";
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export const invalidArgument = (error: string, details: string) => new MeshError(status.INVALID_ARGUMENT, error, details);
