import type { Handler } from "hono";
import { routerCallContext, type EdgeEnv } from "../edge-env.js";
import type { RouterClient } from "../router-client.js";
import { agentRevocationToHttp } from "../transcode.js";

const REVOKE_DEADLINE_MS = 5_000;

/** POST /agents/{hostname}/revoke: one RevokeAgent call; any body is ignored. */
export function revokeAgentRoute(router: RouterClient): Handler<EdgeEnv> {
  return async (c) => {
    const response = await router.revokeAgent(c.req.param("hostname") ?? "", routerCallContext(c, REVOKE_DEADLINE_MS));
    return c.json(agentRevocationToHttp(response));
  };
}
