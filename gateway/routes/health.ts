import type { Handler } from "hono";
import { AGENTS_HEALTH_SERVICE } from "../../src/contract/index.js";
import type { EdgeEnv } from "../edge-env.js";
import { httpErrorResponse } from "../http-errors.js";
import type { RouterClient } from "../router-client.js";

const ROUTER_HEALTH_TIMEOUT_MS = 1_000;

export const READY_WHEN = ["agent-connected", "router-reachable"] as const;
export type ReadyWhen = (typeof READY_WHEN)[number];

/** GET /health: the router answers its health check. */
export function healthRoute(router: RouterClient): Handler<EdgeEnv> {
  return async (c) => {
    if (await router.isServing("", ROUTER_HEALTH_TIMEOUT_MS)) return c.json({ status: "ok" });
    return httpErrorResponse(c, 503, "router unavailable", "the router did not answer its health check within 1 s");
  };
}

/** GET /ready: the router is reachable and, unless configured otherwise, has at least one agent. */
export function readyRoute(router: RouterClient, readyWhen: ReadyWhen): Handler<EdgeEnv> {
  return async (c) => {
    if (!(await router.isServing("", ROUTER_HEALTH_TIMEOUT_MS))) {
      return httpErrorResponse(c, 503, "not ready", "the router is unreachable or draining");
    }
    if (readyWhen === "agent-connected" && !(await router.isServing(AGENTS_HEALTH_SERVICE, ROUTER_HEALTH_TIMEOUT_MS))) {
      return httpErrorResponse(c, 503, "not ready", "the router has no agent connected, or not yet its --ready-min-agents, or is within its --ready-settle");
    }
    return c.json({ status: "ready" });
  };
}
