import type { MiddlewareHandler } from "hono";
import { httpErrorResponse } from "../http-errors.js";

export const requireJsonContent: MiddlewareHandler = async (c, next) => {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type)) {
    return httpErrorResponse(c, 415, "unsupported media type", `Content-Type must be application/json, got "${type || "none"}"`);
  }
  await next();
};
