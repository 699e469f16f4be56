import type { HostResult } from "../gen/meshexec/v1/exec.js";
import { ExecFailureReason } from "../gen/meshexec/v1/agent.js";
import { MeshError, GrpcStatus } from "../errors/index.js";
import { execRequestOf, type AgentSession, type ExecOrder, type HostOutcome, type OnExecOutput } from "./agent-session.js";
import { notAskedResult, toHostResult } from "./host-result.js";
import type { KeptOutput } from "./kept-output.js";
import { compareHostnames } from "./registry.js";

export interface DispatchOptions {
  signal: AbortSignal;
  /** How long to wait for each agent's answer: the exec's own time limit plus a grace. */
  answerWithinMs: number;
  /** Told each host's final result as soon as it is known. */
  onResult?: (result: HostResult) => void;
  /** Told each piece of each host's live output, as its agent sends it (only when the order asks for it: streamOutput). */
  onOutput?: (hostname: string, ...piece: Parameters<OnExecOutput>) => void;
  /** What is kept of each host's answer (env values masked, output bounded), before anything else sees it. */
  kept: KeptOutput;
}

/**
 * Runs the order on every session at once: one result per session, sorted by hostname.
 * A draining agent is not asked, and gets a failed entry saying so.
 */
export async function fanOut(sessions: AgentSession[], order: ExecOrder, opts: DispatchOptions): Promise<HostResult[]> {
  const asked = sessions.filter((s) => !s.draining);
  const notAsked = sessions
    .filter((s) => s.draining)
    .map((s) => notAskedResult(s.hostname, "the agent is draining and takes no new execs"));
  notAsked.forEach((result) => opts.onResult?.(result));
  const results = await execOnAll(asked, order, opts);
  return [...results, ...notAsked].sort((a, b) => compareHostnames(a.hostname, b.hostname));
}

/**
 * Runs the order on exactly one host: the first candidate that does not refuse it. A refusal
 * (`failed`) means the command never ran, so trying the next candidate cannot run it twice.
 * A refusal that makes the request itself wrong (container missing, stopped or outside the
 * token's grant, agent overloaded or draining) becomes the call's status instead of a 202.
 */
export async function runOnOne(candidates: AgentSession[], order: ExecOrder, opts: DispatchOptions): Promise<HostResult> {
  const result = await firstToRun(candidates, order, opts);
  opts.onResult?.(result);
  return result;
}

async function firstToRun(candidates: AgentSession[], order: ExecOrder, opts: DispatchOptions): Promise<HostResult> {
  const refusals: Array<{ session: AgentSession; outcome: HostOutcome & { $case: "failed" }; elapsedMs: number }> = [];
  for (const session of candidates) {
    const { outcome, elapsedMs } = await execOn(session, order, opts);
    if (outcome.$case !== "failed") return toHostResult(session.hostname, outcome, elapsedMs);
    refusals.push({ session, outcome, elapsedMs });
  }
  // Report the most telling refusal: "not found" only when no agent had anything better to say.
  const { session, outcome, elapsedMs } =
    refusals.find((r) => r.outcome.value.reason !== ExecFailureReason.EXEC_FAILURE_REASON_CONTAINER_NOT_FOUND) ?? refusals[0];
  const status = singleHostStatus[outcome.value.reason];
  if (status) throw new MeshError(status.code, status.error, `${session.hostname}: ${outcome.value.message}`);
  return toHostResult(session.hostname, outcome, elapsedMs);
}

const singleHostStatus: Partial<Record<ExecFailureReason, { code: GrpcStatus; error: string }>> = {
  [ExecFailureReason.EXEC_FAILURE_REASON_CONTAINER_NOT_FOUND]: { code: GrpcStatus.NOT_FOUND, error: "container not found" },
  [ExecFailureReason.EXEC_FAILURE_REASON_CONTAINER_NOT_RUNNING]: { code: GrpcStatus.FAILED_PRECONDITION, error: "container not running" },
  [ExecFailureReason.EXEC_FAILURE_REASON_OVERLOADED]: { code: GrpcStatus.RESOURCE_EXHAUSTED, error: "agent overloaded" },
  [ExecFailureReason.EXEC_FAILURE_REASON_DRAINING]: { code: GrpcStatus.UNAVAILABLE, error: "agent draining" },
  [ExecFailureReason.EXEC_FAILURE_REASON_CONTAINER_NOT_ALLOWED]: { code: GrpcStatus.PERMISSION_DENIED, error: "container not allowed" },
};

async function execOn(session: AgentSession, order: ExecOrder, opts: DispatchOptions) {
  let answer!: { outcome: HostOutcome; elapsedMs: number };
  await execOnEach([session], order, opts, (_, outcome, elapsedMs) => (answer = { outcome, elapsedMs }));
  return answer;
}

/** Sends the order to every session and turns each outcome into that host's result as it comes. */
async function execOnAll(sessions: AgentSession[], order: ExecOrder, opts: DispatchOptions): Promise<HostResult[]> {
  const results = new Array<HostResult>(sessions.length);
  await execOnEach(sessions, order, opts, (i, outcome, elapsedMs) => {
    results[i] = toHostResult(sessions[i].hostname, outcome, elapsedMs);
    opts.onResult?.(results[i]);
  });
  return results;
}

/**
 * Sends one request to every session and tells `onOutcome` each session's outcome as it comes;
 * settles once all have one, rejecting with the first error `onOutcome` threw. One request
 * message, one deadline and one cancellation for them all, and no promise per session: a
 * fan-out may reach a thousand, and what each holds for the whole call ends up in V8's old space.
 */
function execOnEach(
  sessions: AgentSession[],
  order: ExecOrder,
  opts: DispatchOptions,
  onOutcome: (index: number, outcome: HostOutcome, elapsedMs: number) => void,
): Promise<void> {
  if (sessions.length === 0) return Promise.resolve();
  const request = execRequestOf(order);
  const { requestId } = request.kind.value;
  const giveUpAll = (status: "failed" | "timeout", message: string) => sessions.forEach((s) => s.giveUp(requestId, status, message));
  const started = performance.now();
  return new Promise((resolve, reject) => {
    let unanswered = sessions.length;
    let failure: { err: unknown } | undefined;
    const timer = setTimeout(
      () => giveUpAll("timeout", `the agent did not answer within ${Math.round(opts.answerWithinMs / 1000)} s`),
      opts.answerWithinMs,
    );
    const onAbort = () => giveUpAll("failed", "cancelled: the caller went away");
    const { onOutput } = opts;
    sessions.forEach((session, i) =>
      session.start(request, (outcome) => {
        try {
          onOutcome(i, opts.kept.keep(outcome), performance.now() - started);
        } catch (err) {
          failure ??= { err };
        }
        if (--unanswered > 0) return;
        clearTimeout(timer);
        opts.signal.removeEventListener("abort", onAbort);
        if (failure) reject(failure.err);
        else resolve();
      }, onOutput && ((stream, data) => onOutput(session.hostname, stream, data))),
    );
    if (opts.signal.aborted) onAbort();
    else opts.signal.addEventListener("abort", onAbort, { once: true });
  });
}
