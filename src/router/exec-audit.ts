import type { ExecContainerRequest } from "../gen/meshexec/v1/exec.js";
import { GrpcStatus, asMeshError, httpStatusOf } from "../errors/index.js";
import type { AuditLog } from "../store/index.js";
import type { CallContext } from "./call-context.js";

/** How an exec attempt ended: accepted with a job, or refused with an error. */
export type AttemptOutcome = { jobId: string } | { refused: unknown; jobId?: string };

/** Appends one audit entry for an exec attempt. Env is left out whole: its values may be secrets. */
export function auditExecAttempt(
  audit: AuditLog,
  context: CallContext,
  subject: string,
  request: Pick<ExecContainerRequest, "target" | "containerId" | "command">,
  outcome: AttemptOutcome,
): void {
  const error = "refused" in outcome ? asMeshError(outcome.refused) : undefined;
  const code = error?.code ?? GrpcStatus.OK;
  audit.append({
    time: new Date(),
    subject,
    sourceAddress: context.sourceAddress,
    target: request.target,
    containerId: request.containerId,
    command: request.command,
    grpcCode: GrpcStatus[code],
    httpStatus: error ? httpStatusOf(code) : 202,
    jobId: outcome.jobId ?? "",
    requestId: context.trace.requestId,
    error: error?.error ?? "",
  });
}
