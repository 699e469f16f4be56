import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { GrpcStatus, MeshError, asMeshError, errorBodyOf, httpStatusOf, type ErrorBody } from "../src/errors/index.js";

/** Every error the edge sends has one shape: `{error, details, code}`, as application/json. */
export function httpErrorResponse(c: Context, code: number, error: string, details: string): Response {
  const body: ErrorBody = { error, details, code };
  return c.json(body, code as ContentfulStatusCode);
}

/** Sends whatever a handler threw in the error shape, with the HTTP status its gRPC status maps to. */
export function meshErrorResponse(c: Context, thrown: unknown): Response {
  const err = asMeshError(thrown);
  const body = errorBodyOf(err);
  // RFC 6750 §3.1: a request that carried no credentials gets the bare challenge, without an error code.
  if (err.code === GrpcStatus.UNAUTHENTICATED) c.header("WWW-Authenticate", c.req.header("authorization") ? `Bearer error="invalid_token"` : "Bearer");
  if (err.code === GrpcStatus.PERMISSION_DENIED) c.header("WWW-Authenticate", `Bearer error="insufficient_scope"`);
  if (err.retryAfterSeconds !== undefined) c.header("Retry-After", String(err.retryAfterSeconds));
  return c.json(body, httpStatusOf(err.code) as ContentfulStatusCode);
}

export { MeshError };
