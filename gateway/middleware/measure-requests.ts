import type { MiddlewareHandler } from "hono";
import { Counter, Histogram, type Registry } from "prom-client";

/** http_requests_total and http_request_duration_seconds by method, route pattern (not raw path) and code. */
export function measureRequests(registry: Registry): MiddlewareHandler {
  const labelNames = ["method", "route", "code"] as const;
  const requests = new Counter({ name: "http_requests_total", help: "HTTP requests answered by the edge.", labelNames, registers: [registry] });
  const duration = new Histogram({
    name: "http_request_duration_seconds",
    help: "Time to the response's head, by route.",
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  return async (c, next) => {
    const endTimer = duration.startTimer();
    await next();
    const labels = { method: c.req.method, route: c.req.routePath, code: String(c.res.status) };
    requests.inc(labels);
    endTimer(labels);
  };
}
