import type { ExecCompleted } from "../../gen/meshexec/v1/agent.js";
import { ForwardEvent, type ForwardHostOutcome } from "../../gen/meshexec/v1/mesh.js";
import type { HostOutcome } from "../agent-session.js";
import { cutToBytes } from "../kept-output.js";

/** The subject a router takes forwarded execs on; router names are [A-Za-z0-9_-], safe in a subject. */
export function execSubjectOf(router: string): string {
  return `meshexec.router.${router}.exec`;
}

export function cancelSubjectOf(router: string): string {
  return `meshexec.router.${router}.cancel`;
}

/** Where the router coordinating a job takes cancels of it from the router that CancelJob reached. */
export function cancelJobSubjectOf(router: string): string {
  return `meshexec.router.${router}.cancel-job`;
}

/** Where a router that recorded an agent revocation tells the others, so the one holding the agent ends its stream. */
export const REVOCATIONS_SUBJECT = "meshexec.revocations";

/** The holding router sends a heartbeat this often while hosts of a forward still run. */
export const FORWARD_HEARTBEAT_MS = 1_000;
/** Silence from the holding router past this, after its acceptance, means it was lost. */
export const FORWARD_SILENCE_LIMIT_MS = 3_000;
/** How long the holding router has to accept a forward; no answer by then is a lost router, not a refusal. */
export const FORWARD_ACCEPT_WITHIN_MS = 2_000;

export function encodeEvent(event: ForwardEvent): Uint8Array {
  return ForwardEvent.encode(event).finish();
}

export function toForwardOutcome(hostname: string, outcome: HostOutcome, elapsedMs: number): ForwardHostOutcome {
  const elapsed = Math.round(elapsedMs);
  switch (outcome.$case) {
    case "completed":
    case "failed":
      return { hostname, outcome, elapsedMs: elapsed };
    case "unanswered":
      return { hostname, outcome: { $case: "unanswered", value: outcome.value }, elapsedMs: elapsed };
  }
}

export function fromForwardOutcome(message: ForwardHostOutcome): HostOutcome {
  const outcome = message.outcome;
  switch (outcome?.$case) {
    case "completed":
    case "failed":
      return outcome;
    case "unanswered":
      return { $case: "unanswered", value: { status: outcome.value.status === "timeout" ? "timeout" : "failed", message: outcome.value.message } };
    default:
      return { $case: "unanswered", value: { status: "failed", message: "the holding router sent an outcome without a result" } };
  }
}

/**
 * Cuts a completed exec's output so its outcome fits in one NATS message (the server's
 * max_payload, 1 MiB by default, against an agent's 1 MiB per stream): each stream keeps at most
 * half the budget, and says it was truncated.
 */
export function fitToPayload(run: ExecCompleted, budgetBytes: number): ExecCompleted {
  const half = Math.max(0, Math.floor(budgetBytes / 2));
  const cut = (text: string) => (Buffer.byteLength(text) <= half ? undefined : cutToBytes(text, half));
  const stdout = cut(run.stdout);
  const stderr = cut(run.stderr);
  if (stdout === undefined && stderr === undefined) return run;
  return {
    ...run,
    stdout: stdout ?? run.stdout,
    stderr: stderr ?? run.stderr,
    stdoutTruncated: run.stdoutTruncated || stdout !== undefined,
    stderrTruncated: run.stderrTruncated || stderr !== undefined,
  };
}
