import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";

/**
 * 413 past maxBytes. A declared Content-Length is judged from the header alone, leaving the
 * body untouched, so Node can skip it after the answer and keep the connection (hono's
 * bodyLimit opens the body first, and a body opened but not read to its end cannot be skipped).
 * A chunked body, with no length to go by, is counted by hono's bodyLimit as it is read.
 */
export function limitBody(maxBytes: number, tooLarge: (c: Context) => Response): MiddlewareHandler {
  const countAsRead = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return async (c, next) => {
    const declared = c.req.header("content-length");
    if (declared === undefined || c.req.header("transfer-encoding") !== undefined) return countAsRead(c, next);
    if (Number(declared) > maxBytes) return tooLarge(c);
    await next();
  };
}
