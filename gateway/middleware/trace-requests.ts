import type { MiddlewareHandler } from "hono";
import type { Logger } from "../../src/log/index.js";
import { continueTrace, traceLogFields } from "../../src/trace/index.js";
import type { EdgeEnv } from "../edge-env.js";

/**
 * Takes the caller's x-request-id and W3C traceparent/tracestate (making whichever is missing),
 * passes them on to the router, echoes them in the response, and writes one access line per request.
 */
export function traceRequests(log: Logger): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    const started = performance.now();
    const trace = continueTrace({
      requestId: c.req.header("x-request-id"),
      traceparent: c.req.header("traceparent"),
      tracestate: c.req.header("tracestate"),
    });
    c.set("trace", trace);
    await next();
    c.res.headers.set("x-request-id", trace.requestId);
    c.res.headers.set("traceparent", trace.traceparent);
    log.info(
      { ...traceLogFields(trace), method: c.req.method, route: c.req.routePath, status: c.res.status, durationMs: Math.round(performance.now() - started) },
      "request",
    );
  };
}
