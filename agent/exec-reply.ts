import { ExecFailureReason, type AgentExecReply } from "../src/gen/meshexec/v1/agent.js";
import { RuntimeFailure, type ExecRun, type RuntimeFailureReason } from "./runtime/index.js";

export function completedReply(requestId: string, run: ExecRun): AgentExecReply {
  return { requestId, outcome: { $case: "completed", value: run } };
}

export function failedReply(requestId: string, reason: ExecFailureReason, message: string): AgentExecReply {
  return { requestId, outcome: { $case: "failed", value: { reason, message } } };
}

/** An exec that threw: a RuntimeFailure says why it never ran; anything else is a bug, reported as internal. */
export function failureReply(requestId: string, err: unknown): AgentExecReply {
  if (err instanceof RuntimeFailure) return failedReply(requestId, reasonByRuntimeFailure[err.reason], err.message);
  return failedReply(requestId, ExecFailureReason.EXEC_FAILURE_REASON_INTERNAL, `agent error: ${(err as Error)?.message ?? err}`);
}

const reasonByRuntimeFailure: Record<RuntimeFailureReason, ExecFailureReason> = {
  "container-not-found": ExecFailureReason.EXEC_FAILURE_REASON_CONTAINER_NOT_FOUND,
  "container-not-running": ExecFailureReason.EXEC_FAILURE_REASON_CONTAINER_NOT_RUNNING,
  "container-not-allowed": ExecFailureReason.EXEC_FAILURE_REASON_CONTAINER_NOT_ALLOWED,
  "engine-unavailable": ExecFailureReason.EXEC_FAILURE_REASON_ENGINE_UNAVAILABLE,
  internal: ExecFailureReason.EXEC_FAILURE_REASON_INTERNAL,
};
