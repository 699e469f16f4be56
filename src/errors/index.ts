import { Metadata, status, type ServiceError, type StatusObject } from "@grpc/grpc-js";
import { MeshError } from "./mesh-error.js";

/** The one gRPC → HTTP table, after google.rpc.Code, except FAILED_PRECONDITION: 409 (container not running). */
const httpStatusByGrpcStatus: Record<status, number> = {
  [status.OK]: 200,
  [status.CANCELLED]: 499,
  [status.UNKNOWN]: 500,
  [status.INVALID_ARGUMENT]: 400,
  [status.DEADLINE_EXCEEDED]: 504,
  [status.NOT_FOUND]: 404,
  [status.ALREADY_EXISTS]: 409,
  [status.PERMISSION_DENIED]: 403,
  [status.RESOURCE_EXHAUSTED]: 429,
  [status.FAILED_PRECONDITION]: 409,
  [status.ABORTED]: 409,
  [status.OUT_OF_RANGE]: 400,
  [status.UNIMPLEMENTED]: 501,
  [status.INTERNAL]: 500,
  [status.UNAVAILABLE]: 503,
  [status.DATA_LOSS]: 500,
  [status.UNAUTHENTICATED]: 401,
};

export function httpStatusOf(code: status): number {
  return httpStatusByGrpcStatus[code] ?? 500;
}

/** The JSON body of every error the edge returns. */
export interface ErrorBody {
  error: string;
  details: string;
  code: number;
}

export function errorBodyOf(err: MeshError): ErrorBody {
  return { error: err.error, details: err.details, code: httpStatusOf(err.code) };
}

// The short sentence and the details travel apart in trailing metadata, so the edge can rebuild
// the exact error body; the status message carries both for plain gRPC callers.
const ERROR_KEY = "meshexec-error";
const DETAILS_KEY = "meshexec-error-details";
// As HTTP's Retry-After: whole seconds.
const RETRY_AFTER_KEY = "retry-after";

export function toStatusObject(err: MeshError): Pick<StatusObject, "code" | "details" | "metadata"> {
  const metadata = new Metadata();
  metadata.set(ERROR_KEY, encodeURIComponent(err.error));
  metadata.set(DETAILS_KEY, encodeURIComponent(err.details));
  if (err.retryAfterSeconds !== undefined) metadata.set(RETRY_AFTER_KEY, String(err.retryAfterSeconds));
  return { code: err.code, details: err.message, metadata };
}

/** Turns anything a handler threw into a MeshError; unknown errors become INTERNAL. */
export function asMeshError(err: unknown): MeshError {
  if (err instanceof MeshError) return err;
  return new MeshError(status.INTERNAL, "internal error", err instanceof Error ? err.message : String(err), { cause: err });
}

/** Rebuilds the MeshError a router sent, or describes a transport failure in the same shape; grpc-js's error stays as `cause`. */
export function fromServiceError(err: ServiceError): MeshError {
  const error = err.metadata?.get(ERROR_KEY)[0];
  const details = err.metadata?.get(DETAILS_KEY)[0];
  if (typeof error === "string" && typeof details === "string") {
    return new MeshError(err.code, decodeURIComponent(error), decodeURIComponent(details), { retryAfterSeconds: retryAfterOf(err.metadata), cause: err });
  }
  const cause = { cause: err };
  switch (err.code) {
    case status.UNAVAILABLE:
      return new MeshError(err.code, "router unavailable", err.details || "the router did not answer", cause);
    case status.DEADLINE_EXCEEDED:
      return new MeshError(err.code, "deadline exceeded", err.details || "the request's deadline passed", cause);
    case status.CANCELLED:
      return new MeshError(err.code, "request cancelled", err.details || "the call was cancelled", cause);
    default:
      return new MeshError(err.code, "router error", err.details || status[err.code] || "unknown", cause);
  }
}

function retryAfterOf(metadata: Metadata): number | undefined {
  const value = metadata.get(RETRY_AFTER_KEY)[0];
  return typeof value === "string" && /^\d{1,6}$/.test(value) ? Number(value) : undefined;
}

export { MeshError, invalidArgument } from "./mesh-error.js";
export { status as GrpcStatus };
export { quoteForMessage } from "./quote-for-message.js";
export { ListenError, listenErrorOf } from "./listen-error.js";
