import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { bodyReadFailure } from "../json-body.js";

/**
 * 413 past maxBytes. A declared Content-Length is judged from the header alone, leaving the
 * body untouched, so Node can skip it after the answer and keep the connection (hono's
 * bodyLimit opens the body first, and a body opened but not read to its end cannot be skipped).
 * A chunked body, with no length to go by, is counted by hono's bodyLimit as it reads it all,
 * so a client that goes away meanwhile is CANCELLED here, as readBodyText says for the other.
 */
export function limitBody(maxBytes: number, tooLarge: (c: Context) => Response): MiddlewareHandler {
  const countAsRead = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return async (c, next) => {
    const declared = c.req.header("content-length");
    if (declared === undefined || c.req.header("transfer-encoding") !== undefined) {
      const request = c.req.raw;
      // Handlers after this one answer their own errors (hono's compose), so only the read's reach this catch.
      return countAsRead(c, next).catch((err: unknown) => {
        throw bodyReadFailure(err, request);
      });
    }
    if (Number(declared) > maxBytes) return tooLarge(c);
    await next();
  };
}
