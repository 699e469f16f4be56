import type { Handler } from "hono";
import { routerCallContext, type EdgeEnv } from "../edge-env.js";
import { wholeNumberQuery } from "../query-params.js";
import type { RouterClient } from "../router-client.js";
import { agentListToHttp, auditPageToHttp, jobListToHttp, jobToHttp } from "../transcode.js";

/** The read routes: each one gRPC call, answered 200 with its JSON. */
const READ_DEADLINE_MS = 5_000;

export function listAgentsRoute(router: RouterClient): Handler<EdgeEnv> {
  return async (c) => {
    return c.json(agentListToHttp(await router.listAgents(routerCallContext(c, READ_DEADLINE_MS))));
  };
}

export function getJobRoute(router: RouterClient): Handler<EdgeEnv> {
  return async (c) => c.json(jobToHttp(await router.getJob(c.req.param("id") ?? "", routerCallContext(c, READ_DEADLINE_MS))));
}

/** The router waits for a cancelled job to record its end (up to 10 s), so this call may take that long. */
const CANCEL_DEADLINE_MS = 15_000;

/** POST /job/{id}/cancel: one CancelJob call; any body is ignored. Answers with the job as it ended. */
export function cancelJobRoute(router: RouterClient): Handler<EdgeEnv> {
  return async (c) => c.json(jobToHttp(await router.cancelJob(c.req.param("id") ?? "", routerCallContext(c, CANCEL_DEADLINE_MS))));
}

export function listJobsRoute(router: RouterClient): Handler<EdgeEnv> {
  return async (c) => {
    const request = {
      target: c.req.query("target") ?? "",
      status: c.req.query("status") ?? "",
      limit: wholeNumberQuery(c, "limit"),
      cursor: c.req.query("cursor") ?? "",
    };
    return c.json(jobListToHttp(await router.listJobs(request, routerCallContext(c, READ_DEADLINE_MS))));
  };
}

export function listAuditRoute(router: RouterClient): Handler<EdgeEnv> {
  return async (c) => {
    const request = { limit: wholeNumberQuery(c, "limit"), cursor: c.req.query("cursor") ?? "" };
    return c.json(auditPageToHttp(await router.listAudit(request, routerCallContext(c, READ_DEADLINE_MS))));
  };
}
