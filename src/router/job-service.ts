import type { Job, JobServiceServer } from "../gen/meshexec/v1/jobs.js";
import { CANCEL_ANY_JOB_SCOPE, READ_ANY_JOB_SCOPE, requiredScopeByMethod, scopesAdmitting, type Principal, type TokenVerifier } from "../auth/index.js";
import { GrpcStatus, MeshError, invalidArgument } from "../errors/index.js";
import type { Logger } from "../log/index.js";
import { JOB_STATUSES } from "../contract/index.js";
import type { AuditLog, JobRecord, JobStatus, JobStore } from "../store/index.js";
import { traceLogFields } from "../trace/index.js";
import { authorizationOf, callContextOf } from "./call-context.js";
import { recordAudit } from "./exec-audit.js";
import type { RunningJobs } from "./job-cancellation.js";
import { pageLimitOf } from "./page-limit.js";
import { unaryHandler } from "./grpc-handlers.js";

export interface JobServiceDeps {
  jobs: JobStore;
  verifier: TokenVerifier;
  log: Logger;
  audit: AuditLog;
  /** The jobs this router runs, which CancelJob aborts. */
  running: RunningJobs;
  /** This router's name as its jobs record it: a job of another router is cancelled there. */
  routerName: string;
  /** In a mesh: asks the router coordinating a job to cancel it (true once it has, false when it runs no such job). */
  cancelJobOn?(router: string, jobId: string, cancelledBy: string): Promise<boolean>;
}

/**
 * A caller sees its own subject's jobs (their output may hold what only it should read); the
 * scope job:read:any sees everyone's. Another subject's job is answered as one that does not
 * exist, so that job ids cannot be probed for. Cancelling follows the same rule, with job:cancel
 * in the place of job:read:any.
 */
export function createJobService(deps: JobServiceDeps): JobServiceServer {
  const { jobs, verifier, log } = deps;
  const cancelElsewhere = async (router: string, jobId: string, cancelledBy: string) => {
    if (!deps.cancelJobOn) {
      throw new MeshError(GrpcStatus.FAILED_PRECONDITION, "job on another router", `job ${jobId} runs on router ${router}, which this router cannot reach`);
    }
    return deps.cancelJobOn(router, jobId, cancelledBy);
  };
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

    cancelJob: unaryHandler(log, async (call) => {
      const context = await callContextOf(call, verifier);
      const principal = await verifier.verify(context.authorization, scopesAdmitting("CancelJob"));
      const { jobId } = call.request;
      const job = await jobs.get(jobId);
      const mayCancel =
        job && (job.subject === principal.subject ? principal.scopes.has(requiredScopeByMethod.CancelJob) : principal.scopes.has(CANCEL_ANY_JOB_SCOPE));
      if (!job || !mayCancel) throw new MeshError(GrpcStatus.NOT_FOUND, "job not found", `no job "${jobId.slice(0, 80)}"`);
      if (job.status !== "running") throw new MeshError(GrpcStatus.FAILED_PRECONDITION, "job finished", `job ${job.id} has already ended ${job.status}`);
      // Only the router coordinating the job can abort it: another router's job is cancelled there, over NATS.
      const cancelled =
        job.router === deps.routerName ? await deps.running.cancel(job.id, principal.subject) : await cancelElsewhere(job.router, job.id, principal.subject);
      // Not running there while the store said running: it ended between the two looks.
      if (!cancelled) throw new MeshError(GrpcStatus.FAILED_PRECONDITION, "job finished", `job ${job.id} has already ended`);
      await recordAudit(deps, {
        time: new Date(),
        subject: principal.subject,
        sourceAddress: context.sourceAddress,
        target: job.target,
        containerId: job.containerId,
        command: ["job", "cancel", job.id],
        grpcCode: GrpcStatus[GrpcStatus.OK],
        httpStatus: 200,
        jobId: job.id,
        requestId: context.trace.requestId,
        error: "",
      });
      log.info({ ...traceLogFields(context.trace), jobId: job.id, subject: principal.subject }, "job cancelled");
      const ended = await jobs.get(job.id);
      return jobOf(ended ?? job);
    }),
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
