import type { HostResult } from "../gen/meshexec/v1/exec.js";
import { ExecFailureReason } from "../gen/meshexec/v1/agent.js";
import { MeshError, GrpcStatus } from "../errors/index.js";
import { execRequestOf, type ExecOrder, type ExecRequestMessage, type HostOutcome, type OnExecOutput } from "./agent-session.js";
import type { ExecDeliverer, HostLink, OnHostOutput } from "./host-link.js";
import { notAskedResult, skippedResult, toHostResult } from "./host-result.js";
import type { KeptOutput } from "./kept-output.js";
import { compareHostnames } from "./registry.js";
import { JobCancellation } from "./job-cancellation.js";

/** What bounds one delivery: the caller's cancellation and how long to wait for answers. */
export interface DeliveryBounds {
  signal: AbortSignal;
  /** How long to wait for each agent's answer: the exec's own time limit plus a grace. */
  answerWithinMs: number;
}

export interface DispatchOptions extends DeliveryBounds {
  /** Told each host's final result as soon as it is known. */
  onResult?: (result: HostResult) => void;
  /** Told each piece of each host's live output, as its agent sends it (only when the order asks for it: streamOutput). */
  onOutput?: (hostname: string, ...piece: Parameters<OnExecOutput>) => void;
  /** What is kept of each host's answer (env values masked, output bounded), before anything else sees it. */
  kept: KeptOutput;
}

/** Rolling execution, from the request's max_concurrency and max_errors, in hosts. */
export interface RollingLimits {
  /** At most this many hosts run at once; absent: all of them. */
  maxConcurrency?: number;
  /** Once more hosts than this have erred, no more start; absent: no limit. */
  maxErrors?: number;
}

/**
 * Runs the order on every host: at once by default, or rolling (`limits`): one result per host,
 * sorted by hostname. A draining agent is not asked, and gets a failed entry saying so.
 */
export async function fanOut(links: HostLink[], order: ExecOrder, opts: DispatchOptions, limits: RollingLimits = {}): Promise<HostResult[]> {
  const asked = links.filter((s) => !s.draining);
  const notAsked = links.filter((s) => s.draining).map((s) => notAskedResult(s.hostname, "the agent is draining and takes no new execs"));
  notAsked.forEach((result) => opts.onResult?.(result));
  // All at once, no host is ever left unstarted, so an error budget alone changes nothing.
  const rolling = limits.maxConcurrency !== undefined && limits.maxConcurrency < asked.length;
  const results = rolling ? await rollOut(asked, order, opts, limits.maxConcurrency!, limits.maxErrors) : await execOnAll(asked, order, opts);
  return [...results, ...notAsked].sort((a, b) => compareHostnames(a.hostname, b.hostname));
}

/** An error, for the error budget: a host whose command did not run to an exit of 0. */
function isError(result: HostResult): boolean {
  return result.status !== "ok" || result.exitCode !== 0;
}

/**
 * Starts hosts in hostname order, at most `maxConcurrency` at a time, the next as soon as one
 * finishes, until more than `maxErrors` have erred or the job is aborted; the hosts never started
 * end "skipped", saying why. Each started host is its own delivery (its own request id and
 * deadline, counted from its start), so a remote router's hosts are forwarded one by one as their
 * turn comes: a batch per router would wait for its slowest host before the next could start.
 */
function rollOut(links: HostLink[], order: ExecOrder, opts: DispatchOptions, maxConcurrency: number, maxErrors = Infinity): Promise<HostResult[]> {
  const queue = [...links].sort((a, b) => compareHostnames(a.hostname, b.hostname));
  const results: HostResult[] = [];
  let next = 0;
  let running = 0;
  let errors = 0;
  let failed = false;
  const whyNotStarted = (): string | undefined => {
    if (failed) return "not started: the exec failed";
    if (opts.signal.aborted) return opts.signal.reason instanceof JobCancellation ? "not started: the job was cancelled" : "not started: the caller went away";
    if (errors > maxErrors) return `not started: ${errors} errors exceeded max_errors ${maxErrors}`;
    return undefined;
  };
  return new Promise((resolve, reject) => {
    const startMore = () => {
      let stopped = whyNotStarted();
      while (stopped === undefined && running < maxConcurrency && next < queue.length) {
        running++;
        start(queue[next++]);
        stopped = whyNotStarted();
      }
      if (running > 0) return;
      for (const link of queue.slice(next)) {
        const skipped = skippedResult(link.hostname, stopped ?? "");
        results.push(skipped);
        opts.onResult?.(skipped);
      }
      next = queue.length;
      resolve(results);
    };
    const start = (link: HostLink) => {
      execOn(link, order, opts)
        .then(({ outcome, elapsedMs }) => {
          const result = toHostResult(link.hostname, outcome, elapsedMs);
          results.push(result);
          if (isError(result)) errors++;
          running--;
          opts.onResult?.(result);
          startMore();
        })
        // Whatever failed (a result the caller could not take, say), the roll-out ends with it, and
        // nothing more starts: failed counts as stopped in whyNotStarted.
        .catch((err: unknown) => {
          failed = true;
          reject(err);
        });
    };
    startMore();
  });
}

/**
 * Runs the order on exactly one host: the first candidate that does not refuse it. A refusal
 * (`failed`) means the command never ran, so trying the next candidate cannot run it twice.
 * A refusal that makes the request itself wrong (container missing, stopped or outside the
 * token's grant, agent overloaded or draining) becomes the call's status instead of a 202.
 */
export async function runOnOne(candidates: HostLink[], order: ExecOrder, opts: DispatchOptions): Promise<HostResult> {
  const result = await firstToRun(candidates, order, opts);
  opts.onResult?.(result);
  return result;
}

async function firstToRun(candidates: HostLink[], order: ExecOrder, opts: DispatchOptions): Promise<HostResult> {
  const refusals: Array<{ link: HostLink; outcome: HostOutcome & { $case: "failed" }; elapsedMs: number }> = [];
  for (const link of candidates) {
    const { outcome, elapsedMs } = await execOn(link, order, opts);
    if (outcome.$case !== "failed") return toHostResult(link.hostname, outcome, elapsedMs);
    refusals.push({ link, outcome, elapsedMs });
  }
  // Report the most telling refusal: "not found" only when no agent had anything better to say.
  const { link, outcome, elapsedMs } =
    refusals.find((r) => r.outcome.value.reason !== ExecFailureReason.EXEC_FAILURE_REASON_CONTAINER_NOT_FOUND) ?? refusals[0];
  const status = singleHostStatus[outcome.value.reason];
  if (status) throw new MeshError(status.code, status.error, `${link.hostname}: ${outcome.value.message}`);
  return toHostResult(link.hostname, outcome, elapsedMs);
}

const singleHostStatus: Partial<Record<ExecFailureReason, { code: GrpcStatus; error: string }>> = {
  [ExecFailureReason.EXEC_FAILURE_REASON_CONTAINER_NOT_FOUND]: { code: GrpcStatus.NOT_FOUND, error: "container not found" },
  [ExecFailureReason.EXEC_FAILURE_REASON_CONTAINER_NOT_RUNNING]: { code: GrpcStatus.FAILED_PRECONDITION, error: "container not running" },
  [ExecFailureReason.EXEC_FAILURE_REASON_OVERLOADED]: { code: GrpcStatus.RESOURCE_EXHAUSTED, error: "agent overloaded" },
  [ExecFailureReason.EXEC_FAILURE_REASON_DRAINING]: { code: GrpcStatus.UNAVAILABLE, error: "agent draining" },
  [ExecFailureReason.EXEC_FAILURE_REASON_CONTAINER_NOT_ALLOWED]: { code: GrpcStatus.PERMISSION_DENIED, error: "container not allowed" },
};

async function execOn(link: HostLink, order: ExecOrder, opts: DispatchOptions) {
  let answer!: { outcome: HostOutcome; elapsedMs: number };
  await deliverEach(
    [link],
    execRequestOf(order),
    opts,
    (_, outcome, elapsedMs) => (answer = { outcome: opts.kept.keep(outcome), elapsedMs }),
    outputOf([link], opts),
  );
  return answer;
}

/** Sends the order to every link and turns each outcome into that host's result as it comes. */
async function execOnAll(links: HostLink[], order: ExecOrder, opts: DispatchOptions): Promise<HostResult[]> {
  const results = new Array<HostResult>(links.length);
  await deliverEach(
    links,
    execRequestOf(order),
    opts,
    (i, outcome, elapsedMs) => {
      results[i] = toHostResult(links[i].hostname, opts.kept.keep(outcome), elapsedMs);
      opts.onResult?.(results[i]);
    },
    outputOf(links, opts),
  );
  return results;
}

/**
 * Sends one request to every host and tells `onOutcome` each host's outcome as it comes; settles
 * once all have one, rejecting with the first error `onOutcome` threw. One request message, one
 * deadline and one cancellation for them all, and no promise per host: a fan-out may reach a
 * thousand, and what each holds for the whole call ends up in V8's old space. Hosts an agent
 * link delivers itself are sent to at once; the others are grouped by their deliverer (the
 * router holding them), which gets them all in one delivery.
 */
export function deliverEach(
  links: readonly HostLink[],
  request: ExecRequestMessage,
  bounds: DeliveryBounds,
  onOutcome: (index: number, outcome: HostOutcome, elapsedMs: number) => void,
  onOutput?: OnHostOutput,
): Promise<void> {
  if (links.length === 0) return Promise.resolve();
  const { requestId } = request.kind.value;
  const grouped = new Map<ExecDeliverer, number[]>();
  const direct: number[] = [];
  links.forEach((link, i) => {
    if ((link.deliverer as unknown) === link) return direct.push(i);
    const group = grouped.get(link.deliverer);
    if (group) group.push(i);
    else grouped.set(link.deliverer, [i]);
  });
  const giveUpAll = (status: "failed" | "timeout" | "cancelled", message: string) => {
    direct.forEach((i) => links[i].deliverer.giveUp(requestId, status, message));
    grouped.forEach((_, deliverer) => deliverer.giveUp(requestId, status, message));
  };
  const started = performance.now();
  return new Promise((resolve, reject) => {
    let unanswered = links.length;
    let failure: { err: unknown } | undefined;
    const timer = setTimeout(
      () => giveUpAll("timeout", `the agent did not answer within ${Math.round(bounds.answerWithinMs / 1000)} s`),
      bounds.answerWithinMs,
    );
    const onAbort = () =>
      bounds.signal.reason instanceof JobCancellation
        ? giveUpAll("cancelled", `${bounds.signal.reason.message}; the process was killed`)
        : giveUpAll("failed", "cancelled: the caller went away");
    const settle = (i: number, outcome: HostOutcome) => {
      try {
        onOutcome(i, outcome, performance.now() - started);
      } catch (err) {
        failure ??= { err };
      }
      if (--unanswered > 0) return;
      clearTimeout(timer);
      bounds.signal.removeEventListener("abort", onAbort);
      if (failure) reject(failure.err);
      else resolve();
    };
    direct.forEach((i) =>
      links[i].deliverer.deliver(request, [links[i]], (_, outcome) => settle(i, outcome), onOutput && ((_, stream, data) => onOutput(i, stream, data))),
    );
    grouped.forEach((indices, deliverer) =>
      deliverer.deliver(
        request,
        indices.map((i) => links[i]),
        (j, outcome) => settle(indices[j], outcome),
        onOutput && ((j, stream, data) => onOutput(indices[j], stream, data)),
      ),
    );
    if (bounds.signal.aborted) onAbort();
    else bounds.signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Each piece of live output, by host index, as the caller's onOutput (by hostname) takes it. */
function outputOf(links: readonly HostLink[], opts: DispatchOptions): OnHostOutput | undefined {
  const { onOutput } = opts;
  return onOutput && ((i, stream, data) => onOutput(links[i].hostname, stream, data));
}
