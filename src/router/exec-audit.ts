import type { ExecContainerRequest } from "../gen/meshexec/v1/exec.js";
import { execLimits } from "../contract/index.js";
import { GrpcStatus, asMeshError, httpStatusOf } from "../errors/index.js";
import type { Logger } from "../log/index.js";
import type { AuditLog, NewAuditEntry } from "../store/index.js";
import type { CallContext } from "./call-context.js";

/** How an exec attempt ended: accepted with a job, or refused with an error. */
export type AttemptOutcome = { jobId: string } | { refused: unknown; jobId?: string };

/**
 * What one audit row may hold of a command that did not pass validation: its first arguments,
 * each cut short. A validated command is bounded already (and by the 1 MiB message limit).
 */
export const auditCommandLimits = { maxArgs: 16, maxArgChars: 1024 } as const;

/**
 * Appends one audit entry for an exec attempt. Env is left out whole: its values may be secrets.
 * Every field is bounded, so no attempt can make a large row: a caller whose token did not verify
 * (empty subject) leaves no command at all and its target and container cut to their documented
 * limits; an authenticated caller's command is kept whole once it passed validation
 * (`validatedCommand`), and cut to `auditCommandLimits` otherwise, so the row still says what was tried.
 */
export function auditExecAttempt(
  audit: AuditTrail,
  context: CallContext,
  subject: string,
  request: Pick<ExecContainerRequest, "target" | "containerId" | "command">,
  outcome: AttemptOutcome,
  validatedCommand?: string[],
): Promise<void> {
  const error = "refused" in outcome ? asMeshError(outcome.refused) : undefined;
  const code = error?.code ?? GrpcStatus.OK;
  return recordAudit(audit, {
    time: new Date(),
    subject,
    sourceAddress: context.sourceAddress,
    target: cutForAudit(request.target, execLimits.targetMaxLength),
    containerId: cutForAudit(request.containerId, execLimits.containerIdMaxLength),
    command: validatedCommand ?? (subject ? cutCommand(request.command) : []),
    grpcCode: GrpcStatus[code],
    httpStatus: error ? httpStatusOf(code) : 202,
    jobId: outcome.jobId ?? "",
    requestId: context.trace.requestId,
    error: error?.error ?? "",
  });
}

/** The audit log, and where to say an entry could not be kept. */
export interface AuditTrail {
  audit: AuditLog;
  log: Logger;
}

/**
 * Appends an entry for something already done (or refused): when the database cannot keep it, the
 * answer stays what it was, and the entry goes to the log at error instead, so it is never lost silently.
 */
export async function recordAudit({ audit, log }: AuditTrail, entry: NewAuditEntry): Promise<void> {
  try {
    await audit.append(entry);
  } catch (err) {
    log.error({ err, audit: entry }, "audit entry not recorded");
  }
}

/** A caller's value cut to `maxChars`, marked with "…" when it was longer. */
export function cutForAudit(value: string, maxChars: number): string {
  return value.length > maxChars ? `${value.slice(0, maxChars)}…` : value;
}

function cutCommand(command: string[]): string[] {
  const kept = command.slice(0, auditCommandLimits.maxArgs).map((arg) => cutForAudit(arg, auditCommandLimits.maxArgChars));
  const left = command.length - kept.length;
  return left > 0 ? [...kept, `…(${left} more arguments)`] : kept;
}
