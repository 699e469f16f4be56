import type { IncomingMessage } from "node:http";
import type { MiddlewareHandler } from "hono";

/** Past this declared size an unread body is not worth reading to its end: the connection closes instead. */
const MAX_SKIPPED_BYTES = 16 * 1024 * 1024;

/**
 * An answer sent before the request's body was read (401, 404, 413, 415…) must still reach a
 * client that is busy sending that body. When nobody touched a body of a declared length (up to
 * 16 MiB), Node reads and drops the rest after the answer and the connection stays usable (the
 * server runs with @hono/node-server's own cleanup off, which would cut that short after 500 ms
 * and reset the connection under a slow sender). A chunked body may never end, and one a reader
 * gave up on halfway cannot be skipped, so those answers say Connection: close.
 */
export const finishUnreadBody: MiddlewareHandler<{ Bindings: { incoming?: IncomingMessage } }> = async (c, next) => {
  await next();
  const incoming = c.env?.incoming;
  const declared = Number(c.req.header("content-length") ?? 0);
  const chunked = c.req.header("transfer-encoding") !== undefined;
  if (!incoming || (declared === 0 && !chunked) || incoming.readableEnded) return;
  const untouched = incoming.readableFlowing === null && !incoming.destroyed;
  const skippable = untouched && !chunked && declared <= MAX_SKIPPED_BYTES;
  if (!skippable) c.res.headers.set("Connection", "close");
};
