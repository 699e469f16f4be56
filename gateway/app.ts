import { Hono } from "hono";
import { execLimits } from "../src/contract/index.js";
import { httpStatusOf } from "../src/errors/index.js";
import type { TokenVerifier } from "../src/auth/index.js";
import type { Logger } from "../src/log/index.js";
import type { Registry } from "../src/metrics/index.js";
import type { EdgeEnv } from "./edge-env.js";
import { httpErrorResponse, meshErrorResponse, type MeshError } from "./http-errors.js";
import { auditEdgeRefusals } from "./middleware/audit-edge-refusals.js";
import { finishUnreadBody } from "./middleware/finish-unread-body.js";
import { limitBody } from "./middleware/limit-body.js";
import { measureRequests } from "./middleware/measure-requests.js";
import { requireJsonContent } from "./middleware/require-json.js";
import { requireScope } from "./middleware/require-scope.js";
import { traceRequests } from "./middleware/trace-requests.js";
import type { RouterClient } from "./router-client.js";
import { execRoute } from "./routes/exec.js";
import { healthRoute, readyRoute, type ReadyWhen } from "./routes/health.js";
import { openApiRoute } from "./routes/openapi.js";
import { cancelJobRoute, getJobRoute, listAgentsRoute, listAuditRoute, listJobsRoute } from "./routes/reads.js";
import { revokeAgentRoute } from "./routes/revoke-agent.js";
import { revokeTokenRoute } from "./routes/tokens.js";

export interface GatewayDeps {
  router: RouterClient;
  /** Checks tokens before any body is read, as Envoy's jwt_authn filter would; the router checks them again. */
  verifier: TokenVerifier;
  log: Logger;
  readyWhen?: ReadyWhen;
  metrics: Registry;
}

// Empty segments match too, so that the router, not a 404, says which one is missing.
export const EXEC_ROUTE = "/node/:hostname{[^/]*}/container/docker/:id{[^/]*}/exec";
export const TOKEN_REVOKE_ROUTE = "/tokens/:jti{[^/]*}/revoke";
export const AGENT_REVOKE_ROUTE = "/agents/:hostname{[^/]*}/revoke";

/**
 * The REST edge: transcodes each route to one gRPC call on the router and maps the reply back.
 * It decides nothing about who runs what.
 */
export function createGatewayApp(deps: GatewayDeps): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();
  const { router, verifier } = deps;
  app.use(traceRequests(deps.log), measureRequests(deps.metrics), finishUnreadBody);

  app.get("/health", healthRoute(router));
  app.get("/ready", readyRoute(router, deps.readyWhen ?? "agent-connected"));
  app.get("/openapi.json", openApiRoute());
  app.post(
    EXEC_ROUTE,
    auditEdgeRefusals(router, deps.log),
    requireScope(verifier, "ExecContainer"),
    requireJsonContent,
    limitBody(execLimits.maxBodyBytes, (c) => httpErrorResponse(c, 413, "request body too large", `the body must be at most ${execLimits.maxBodyBytes} bytes`)),
    execRoute(router),
  );
  app.get("/agents", requireScope(verifier, "ListAgents"), listAgentsRoute(router));
  app.post(AGENT_REVOKE_ROUTE, requireScope(verifier, "RevokeAgent"), revokeAgentRoute(router));
  app.get("/job/:id", requireScope(verifier, "GetJob"), getJobRoute(router));
  app.post("/job/:id/cancel", requireScope(verifier, "CancelJob"), cancelJobRoute(router));
  app.get("/jobs", requireScope(verifier, "ListJobs"), listJobsRoute(router));
  app.get("/audit", requireScope(verifier, "ListAudit"), listAuditRoute(router));
  app.post(TOKEN_REVOKE_ROUTE, requireScope(verifier, "RevokeToken"), revokeTokenRoute(router));

  for (const [path, allowed] of ROUTE_METHODS) {
    app.all(path, (c) => {
      c.header("Allow", allowed);
      return httpErrorResponse(c, 405, "method not allowed", `${c.req.method} is not allowed on ${c.req.path}; use ${allowed}`);
    });
  }
  app.notFound((c) => httpErrorResponse(c, 404, "not found", `no route for ${c.req.method} ${c.req.path}`));
  app.onError((err, c) => {
    if (!(err instanceof Error && err.name === "MeshError")) deps.log.error({ err, path: c.req.path }, "edge handler failed");
    // A failed call to the router (unreachable, or broken mid-call) is the edge's to report: its
    // cause, grpc-js's error, is what says why (pino prints it as "caused by:").
    else if (isRouterFailure(err as MeshError)) deps.log.warn({ err, path: c.req.path }, "router call failed");
    return meshErrorResponse(c, err);
  });
  return app;
}

/** Every path the edge serves and the one method it takes; any other method is a 405. */
export const ROUTE_METHODS = [
  [EXEC_ROUTE, "POST"],
  ["/agents", "GET"],
  [AGENT_REVOKE_ROUTE, "POST"],
  ["/job/:id", "GET"],
  ["/jobs", "GET"],
  ["/audit", "GET"],
  [TOKEN_REVOKE_ROUTE, "POST"],
  ["/health", "GET"],
  ["/ready", "GET"],
  ["/openapi.json", "GET"],
] as const;

/** A 5xx that came from a call to the router (fromServiceError keeps grpc-js's error as its cause). */
function isRouterFailure(err: MeshError): boolean {
  return err.cause !== undefined && httpStatusOf(err.code) >= 500;
}
