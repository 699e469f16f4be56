import type { MiddlewareHandler } from "hono";
import { scopesAdmitting, type GuardedMethod, type TokenVerifier } from "../../src/auth/index.js";
import type { EdgeEnv } from "../edge-env.js";

/** Checks the token and its scope (or one of the alternatives the method takes) before anything reads the body, as Envoy's jwt_authn filter would. */
export function requireScope(verifier: TokenVerifier, method: GuardedMethod): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    c.set("subject", (await verifier.verify(c.req.header("authorization"), scopesAdmitting(method))).subject);
    await next();
  };
}
