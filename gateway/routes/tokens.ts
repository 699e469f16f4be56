import type { Handler } from "hono";
import { routerCallContext, type EdgeEnv } from "../edge-env.js";
import type { RouterClient } from "../router-client.js";
import { revokedTokenToHttp } from "../transcode.js";

const REVOKE_DEADLINE_MS = 5_000;

/** POST /tokens/:jti/revoke: one RevokeToken call, answered 200 with the jti and when it was first revoked. */
export function revokeTokenRoute(router: RouterClient): Handler<EdgeEnv> {
  return async (c) => {
    return c.json(revokedTokenToHttp(await router.revokeToken(c.req.param("jti") ?? "", routerCallContext(c, REVOKE_DEADLINE_MS))));
  };
}
