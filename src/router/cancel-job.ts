import type { ServerUnaryCall } from "@grpc/grpc-js";
import type { CancelJobRequest, Job } from "../gen/meshexec/v1/jobs.js";
import { CANCEL_ANY_JOB_SCOPE, requiredScopeByMethod, scopesAdmitting, type Principal, type TokenVerifier } from "../auth/index.js";
import { GrpcStatus, MeshError, asMeshError, httpStatusOf } from "../errors/index.js";
import type { Logger } from "../log/index.js";
import type { AuditLog, JobRecord, JobStore } from "../store/index.js";
import { traceLogFields } from "../trace/index.js";
import { callContextOf } from "./call-context.js";
import { recordAudit } from "./exec-audit.js";
import type { RunningJobs } from "./job-cancellation.js";

export interface CancelJobDeps {
  jobs: JobStore;
  verifier: TokenVerifier;
  log: Logger;
  audit: AuditLog;
  /** The jobs this router runs. */
  running: RunningJobs;
  /** This router's name as its jobs record it: a job of another router is cancelled there. */
  routerName: string;
  /** In a mesh: asks the router coordinating a job to cancel it (true once it has, false when it runs no such job). */
  cancelJobOn?(router: string, jobId: string, cancelledBy: string): Promise<boolean>;
}

/** What an audit row holds of a job id as the caller gave it: ids are UUIDs, anything longer is cut. */
const AUDITED_JOB_ID_CHARS = 80;

/**
 * JobService.CancelJob: the job's own subject with docker:execute, or any subject with job:cancel.
 * Another subject's job without job:cancel is answered as one that does not exist, as GetJob
 * does. Only the router coordinating a job can abort it, so another router's job is cancelled
 * there, over NATS. Every attempt of an authenticated caller is audited, refused ones included.
 */
export function cancelJobHandler(deps: CancelJobDeps): (call: ServerUnaryCall<CancelJobRequest, Job>) => Promise<JobRecord> {
  return async (call) => {
    const context = await callContextOf(call, deps.verifier);
    const principal = await deps.verifier.verify(context.authorization, scopesAdmitting("CancelJob"));
    const jobId = call.request.jobId.slice(0, AUDITED_JOB_ID_CHARS);
    let visible: JobRecord | undefined;
    const audit = (err?: unknown) => {
      const code = err === undefined ? GrpcStatus.OK : asMeshError(err).code;
      return recordAudit(deps, {
        time: new Date(),
        subject: principal.subject,
        sourceAddress: context.sourceAddress,
        target: visible?.target ?? "",
        containerId: visible?.containerId ?? "",
        command: ["job", "cancel", jobId],
        grpcCode: GrpcStatus[code],
        httpStatus: err === undefined ? 200 : httpStatusOf(code),
        jobId: visible?.id ?? "",
        requestId: context.trace.requestId,
        error: err === undefined ? "" : asMeshError(err).error,
      });
    };
    try {
      const job = await deps.jobs.get(call.request.jobId);
      if (!job || !mayCancel(principal, job)) throw new MeshError(GrpcStatus.NOT_FOUND, "job not found", `no job "${jobId}"`);
      visible = job;
      if (job.status !== "running") throw new MeshError(GrpcStatus.FAILED_PRECONDITION, "job finished", `job ${job.id} has already ended ${job.status}`);
      const cancelled =
        job.router === deps.routerName ? await deps.running.cancel(job.id, principal.subject) : await cancelElsewhere(deps, job, principal.subject);
      // Not running there while the store said running: it ended between the two looks.
      if (!cancelled) throw new MeshError(GrpcStatus.FAILED_PRECONDITION, "job finished", `job ${job.id} has already ended`);
    } catch (err) {
      await audit(err);
      throw err;
    }
    await audit();
    deps.log.info({ ...traceLogFields(context.trace), jobId: visible.id, subject: principal.subject }, "job cancelled");
    return (await deps.jobs.get(visible.id)) ?? visible;
  };
}

function mayCancel(principal: Principal, job: JobRecord): boolean {
  return job.subject === principal.subject ? principal.scopes.has(requiredScopeByMethod.CancelJob) : principal.scopes.has(CANCEL_ANY_JOB_SCOPE);
}

function cancelElsewhere(deps: CancelJobDeps, job: JobRecord, cancelledBy: string): Promise<boolean> {
  if (!deps.cancelJobOn) {
    throw new MeshError(GrpcStatus.FAILED_PRECONDITION, "job on another router", `job ${job.id} runs on router ${job.router}, which this router cannot reach`);
  }
  return deps.cancelJobOn(job.router, job.id, cancelledBy);
}
