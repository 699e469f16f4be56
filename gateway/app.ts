import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { AGENT_ANSWER_GRACE_MS, execLimits } from "../src/contract/index.js";
import { requiredScopeByMethod, type GuardedMethod, type TokenVerifier } from "../src/auth/index.js";
import type { Logger } from "../src/log/index.js";
import { httpErrorResponse, meshErrorResponse } from "./http-errors.js";
import { parseJsonBody } from "./json-body.js";
import type { RouterClient } from "./router-client.js";
import { agentToHttp, execRequestFromHttp, execResponseToHttp } from "./transcode.js";
import { closeAfterUnreadBody } from "./unread-body.js";

export interface GatewayDeps {
  router: RouterClient;
  /** Checks tokens before any body is read, as Envoy's jwt_authn filter would; the router checks them again. */
  verifier: TokenVerifier;
  log: Logger;
}

// Empty segments match too, so that the router, not a 404, says which one is missing.
const EXEC_ROUTE = "/node/:hostname{[^/]*}/container/docker/:id{[^/]*}/exec";
const ROUTER_HEALTH_TIMEOUT_MS = 1_000;

/**
 * The REST edge: transcodes each route to one gRPC call on the router and maps the reply back.
 * It decides nothing about who runs what.
 */
export function createGatewayApp(deps: GatewayDeps): Hono {
  const app = new Hono();
  const { router } = deps;
  app.use(closeAfterUnreadBody);

  app.get("/health", async (c) => {
    if (await router.isServing(ROUTER_HEALTH_TIMEOUT_MS)) return c.json({ status: "ok" });
    return httpErrorResponse(c, 503, "router unavailable", "the router did not answer its health check within 1 s");
  });

  app.post(
    EXEC_ROUTE,
    requireScope(deps.verifier, "ExecContainer"),
    requireJsonContent,
    bodyLimit({
      maxSize: execLimits.maxBodyBytes,
      onError: (c) => httpErrorResponse(c, 413, "request body too large", `the body must be at most ${execLimits.maxBodyBytes} bytes`),
    }),
    async (c) => {
      const request = execRequestFromHttp(c.req.param("hostname"), c.req.param("id"), parseJsonBody(await c.req.raw.text()));
      const timeoutMs = (request.timeoutSeconds ?? execLimits.defaultTimeoutSeconds) * 1000;
      const response = await router.call(router.exec.execContainer, request, {
        authorization: c.req.header("authorization"),
        deadlineMs: timeoutMs + AGENT_ANSWER_GRACE_MS + 1_000,
        signal: c.req.raw.signal,
      });
      return c.json(execResponseToHttp(response), 202);
    },
  );

  app.get("/agents", requireScope(deps.verifier, "ListAgents"), async (c) => {
    const response = await router.call(router.exec.listAgents, {}, { authorization: c.req.header("authorization"), deadlineMs: 5_000 });
    return c.json({ agents: response.agents.map(agentToHttp) });
  });

  for (const [path, allowed] of [[EXEC_ROUTE, "POST"], ["/agents", "GET"], ["/health", "GET"]] as const) {
    app.all(path, (c) => {
      c.header("Allow", allowed);
      return httpErrorResponse(c, 405, "method not allowed", `${c.req.method} is not allowed on ${c.req.path}; use ${allowed}`);
    });
  }
  app.notFound((c) => httpErrorResponse(c, 404, "not found", `no route for ${c.req.method} ${c.req.path}`));
  app.onError((err, c) => {
    if (!(err instanceof Error && err.name === "MeshError")) deps.log.error({ err, path: c.req.path }, "edge handler failed");
    return meshErrorResponse(c, err);
  });
  return app;
}

function requireScope(verifier: TokenVerifier, method: GuardedMethod): MiddlewareHandler {
  return async (c, next) => {
    await verifier.verify(c.req.header("authorization"), requiredScopeByMethod[method]);
    await next();
  };
}

const requireJsonContent: MiddlewareHandler = async (c, next) => {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type)) {
    return httpErrorResponse(c, 415, "unsupported media type", `Content-Type must be application/json, got "${type || "none"}"`);
  }
  await next();
};
