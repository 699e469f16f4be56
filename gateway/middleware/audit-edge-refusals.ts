import type { MiddlewareHandler } from "hono";
import type { Logger } from "../../src/log/index.js";
import type { ErrorBody } from "../../src/errors/index.js";
import { clientAddressOf, type EdgeEnv } from "../edge-env.js";
import type { RouterClient } from "../router-client.js";

/**
 * An exec the edge refused itself (bad token, wrong content type, oversized or malformed body)
 * never reaches the router, so the edge reports it for the audit log. It does not wait for that
 * report to answer the caller. Without the edge's own token (--router-token) the router would
 * refuse the report, so none is sent (the edge warned at startup).
 */
export function auditEdgeRefusals(router: RouterClient, log: Logger): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    await next();
    if (c.res.status < 400 || c.get("routerCalled") || !router.canRecordRefusals) return;
    const body = (await c.res
      .clone()
      .json()
      .catch(() => ({}))) as Partial<ErrorBody>;
    router
      .recordEdgeRefusal(
        {
          target: c.req.param("hostname") ?? "",
          containerId: c.req.param("id") ?? "",
          subject: c.get("subject") ?? "",
          httpStatus: c.res.status,
          error: body.error ?? "",
        },
        // The edge's own token, never the caller's: that may be what was refused.
        { trace: c.get("trace"), clientAddress: clientAddressOf(c), deadlineMs: 2_000 },
      )
      .catch((err) => log.warn({ err: err.message, requestId: c.get("trace").requestId }, "could not audit an edge refusal"));
  };
}
