import type { Job, JobServiceServer } from "../gen/meshexec/v1/jobs.js";
import { READ_ANY_JOB_SCOPE, requiredScopeByMethod, type Principal } from "../auth/index.js";
import { GrpcStatus, MeshError, invalidArgument } from "../errors/index.js";
import { JOB_STATUSES } from "../contract/index.js";
import type { JobRecord, JobStatus } from "../store/index.js";
import { authorizationOf } from "./call-context.js";
import { cancelJobHandler, type CancelJobDeps } from "./cancel-job.js";
import { pageLimitOf } from "./page-limit.js";
import { unaryHandler } from "./grpc-handlers.js";

/** GetJob and ListJobs need the store, the verifier and the log; CancelJob (cancel-job.ts) the rest. */
export type JobServiceDeps = CancelJobDeps;

/**
 * A caller sees its own subject's jobs (their output may hold what only it should read); the
 * scope job:read:any sees everyone's. Another subject's job is answered as one that does not
 * exist, so that job ids cannot be probed for. CancelJob follows the same rule (cancel-job.ts).
 */
export function createJobService(deps: JobServiceDeps): JobServiceServer {
  const { jobs, verifier, log } = deps;
  return {
    getJob: unaryHandler(log, async (call) => {
      const principal = await verifier.verify(authorizationOf(call), requiredScopeByMethod.GetJob);
      const job = await jobs.get(call.request.jobId);
      if (!job || !mayRead(principal, job)) throw new MeshError(GrpcStatus.NOT_FOUND, "job not found", `no job "${call.request.jobId.slice(0, 80)}"`);
      return jobOf(job);
    }),

    listJobs: unaryHandler(log, async (call) => {
      const principal = await verifier.verify(authorizationOf(call), requiredScopeByMethod.ListJobs);
      const { target, status, limit, cursor } = call.request;
      if (status && !JOB_STATUSES.includes(status as JobStatus)) {
        throw invalidArgument("invalid status", `status must be one of ${JOB_STATUSES.join(", ")}, got "${status.slice(0, 40)}"`);
      }
      const subject = principal.scopes.has(READ_ANY_JOB_SCOPE) ? undefined : principal.subject;
      const page = await jobs.list({
        subject,
        target: target || undefined,
        status: (status || undefined) as JobStatus | undefined,
        limit: pageLimitOf(limit),
        cursor: cursor || undefined,
      });
      return { jobs: page.items.map(jobOf), nextCursor: page.nextCursor ?? "" };
    }),

    cancelJob: unaryHandler(log, async (call) => jobOf(await cancelJobHandler(deps)(call))),
  };
}

function mayRead(principal: Principal, job: JobRecord): boolean {
  return job.subject === principal.subject || principal.scopes.has(READ_ANY_JOB_SCOPE);
}

function jobOf(job: JobRecord): Job {
  return {
    jobId: job.id,
    subject: job.subject,
    target: job.target,
    containerId: job.containerId,
    command: job.command,
    envKeys: job.envKeys,
    status: job.status,
    error: job.error,
    hosts: job.hosts,
    results: job.results,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    finishedAt: job.finishedAt,
  };
}
