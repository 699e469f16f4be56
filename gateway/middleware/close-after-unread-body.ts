import type { IncomingMessage } from "node:http";
import type { MiddlewareHandler } from "hono";

/**
 * An answer sent before the request's body has all arrived (401, 413, 415…) says Connection:
 * close. Otherwise the client would reuse a connection that the server drops once it gives up
 * draining the unread rest, and the client's next request on it would fail with no answer.
 */
export const closeAfterUnreadBody: MiddlewareHandler<{ Bindings: { incoming?: IncomingMessage } }> = async (c, next) => {
  await next();
  const incoming = c.env?.incoming;
  const hasBody = Number(c.req.header("content-length") ?? 0) > 0 || c.req.header("transfer-encoding") !== undefined;
  if (incoming && hasBody && !incoming.readableEnded) c.res.headers.set("Connection", "close");
};
