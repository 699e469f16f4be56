import { createHash, randomUUID } from "node:crypto";
import type { ExecGrants } from "../auth/index.js";
import type { ExecContainerResponse, HostResult } from "../gen/meshexec/v1/exec.js";
import { AGENT_ANSWER_GRACE_MS } from "../contract/index.js";
import { GrpcStatus, MeshError, asMeshError } from "../errors/index.js";
import type { RouterMetrics } from "../metrics/index.js";
import { jobStatusOf, type JobStore, type NewJob } from "../store/index.js";
import type { TraceContext } from "../trace/index.js";
import { fanOut, runOnOne, type DispatchOptions } from "./dispatch.js";
import { KeptOutput } from "./kept-output.js";
import { LiveOutput, type LiveOutputSink } from "./live-output.js";
import type { AgentRegistry } from "./registry.js";
import { describeTarget } from "./target.js";
import { authorizeTarget } from "./target-grants.js";
import type { ExecPlan } from "./validate-exec.js";

const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;

export interface ExecJobsDeps {
  registry: AgentRegistry;
  jobs: JobStore;
  /** Tracks work in flight, so a draining router can wait for it. */
  track: <T>(work: Promise<T>) => Promise<T>;
  metrics: RouterMetrics;
  /** Bytes of stdout and of stderr kept per host (the agents' cap). */
  hostOutputLimitBytes: number;
  /** Bytes of output kept for one exec over all its hosts. */
  totalOutputLimitBytes: number;
}

export interface AcceptedExec {
  subject: string;
  plan: ExecPlan;
  /** Where the caller's token lets it exec: checked here against the hosts, and by each agent against the container. */
  grants: ExecGrants;
  async: boolean;
  idempotencyKey?: string;
  trace: TraceContext;
  /** Aborted when the caller goes away; an async job does not listen to it. */
  signal: AbortSignal;
  /** Told the job's id and its hosts as soon as there is a job, so even a refusal can name it. */
  onAccepted(jobId: string, hosts: string[]): void;
  /** Told each host's result as soon as that host finishes. */
  onResult?(result: HostResult): void;
  /** Told each host's output as the command writes it, all of a host's before its result; a waiting exec only. */
  onOutput?: LiveOutputSink;
  /**
   * Told once when this exec's own work is over: when its job ends (for an async job, long after
   * the call), or at once for a replay or a refusal, which run nothing.
   */
  onSettled?(): void;
}

interface LiveJob {
  requestHash: string;
  jobId: string;
  done: Promise<ExecContainerResponse>;
}

/**
 * Turns each accepted exec into a job: recorded before anything runs, filled in as hosts
 * answer, finished with a status. A repeated idempotency key returns the first job instead of
 * running again, even while that job is still running.
 */
export class ExecJobs {
  private readonly live = new Map<string, LiveJob>();

  constructor(private readonly deps: ExecJobsDeps) {}

  run(exec: AcceptedExec): Promise<ExecContainerResponse> | ExecContainerResponse {
    let started: Promise<unknown> | undefined;
    try {
      const response = this.start(exec);
      started = response.started;
      return response.reply;
    } finally {
      if (started) started.finally(() => exec.onSettled?.()).catch(() => {});
      else exec.onSettled?.();
    }
  }

  /** The reply to give, and the work started for it, if any. */
  private start(exec: AcceptedExec): { reply: Promise<ExecContainerResponse> | ExecContainerResponse; started?: Promise<unknown> } {
    // Only a keyed request can be replayed, so only it needs the hash that tells replays apart.
    const keyed = exec.idempotencyKey ? { key: exec.idempotencyKey, requestHash: requestHashOf(exec.plan) } : undefined;
    if (keyed) {
      const replayed = this.replay(exec, keyed.key, keyed.requestHash);
      if (replayed) return { reply: replayed };
    }
    // From here to registering the live job nothing awaits, so two calls with one key cannot both start.
    const sessions = authorizeTarget(exec.grants.targets, exec.plan.target, this.deps.registry.select(exec.plan.target));
    const job: NewJob = {
      id: randomUUID(),
      subject: exec.subject,
      target: describeTarget(exec.plan.target),
      containerId: exec.plan.containerId,
      command: exec.plan.command,
      envKeys: exec.plan.env.map((entry) => entry.slice(0, entry.indexOf("="))),
      // `_any` picks its one host while running; it shows in the results.
      hosts: exec.plan.target.kind === "any" ? [] : sessions.map((s) => s.hostname),
      idempotencyKey: keyed?.key,
      requestHash: keyed?.requestHash,
      createdAt: new Date(),
    };
    this.deps.jobs.create(job);
    exec.onAccepted(job.id, job.hosts);

    const done = this.deps.track(this.execute(job.id, sessions, exec));
    if (keyed) {
      const key = liveKeyOf(exec.subject, keyed.key);
      this.live.set(key, { requestHash: keyed.requestHash, jobId: job.id, done });
      done.then(
        () => this.live.delete(key),
        () => this.live.delete(key),
      );
    }
    if (exec.async) {
      done.catch(() => {}); // its outcome is in the job record
      return { reply: { jobId: job.id, results: [] }, started: done };
    }
    return { reply: done, started: done };
  }

  private async execute(jobId: string, sessions: ReturnType<AgentRegistry["select"]>, exec: AcceptedExec): Promise<ExecContainerResponse> {
    const { plan } = exec;
    const bounds = { env: plan.env, hostOutputLimitBytes: this.deps.hostOutputLimitBytes, totalOutputLimitBytes: this.deps.totalOutputLimitBytes };
    // An async job's caller is gone: nobody to stream to.
    const live = exec.onOutput && !exec.async ? new LiveOutput(bounds, exec.onOutput) : undefined;
    const order = {
      containerId: plan.containerId,
      command: plan.command,
      env: plan.env,
      workingDir: plan.workingDir,
      timeoutMs: plan.timeoutMs,
      trace: exec.trace,
      allowedContainers: exec.grants.containers ?? [],
      streamOutput: live !== undefined,
      stdin: plan.stdin,
    };
    const opts: DispatchOptions = {
      signal: exec.async ? new AbortController().signal : exec.signal,
      answerWithinMs: plan.timeoutMs + AGENT_ANSWER_GRACE_MS,
      onOutput: live && ((hostname, stream, data) => live.add(hostname, stream, data)),
      onResult: (result) => {
        live?.finish(result.hostname);
        // An async job shows each host as it answers; a waiting caller's job is written once, at the end.
        if (exec.async) this.deps.jobs.addResults(jobId, [result]);
        exec.onResult?.(result);
      },
      kept: new KeptOutput(bounds),
    };
    try {
      const singleHost = plan.target.kind === "host" || plan.target.kind === "any";
      const results = singleHost ? [await runOnOne(sessions, order, opts)] : await fanOut(sessions, order, opts);
      if (!exec.async) this.deps.jobs.addResults(jobId, results);
      this.deps.jobs.finish(jobId, jobStatusOf(results));
      this.deps.metrics.observeExec(results);
      return { jobId, results };
    } catch (err) {
      this.deps.jobs.finish(jobId, "failed", asMeshError(err).message);
      throw err;
    }
  }

  private replay(exec: AcceptedExec, key: string, requestHash: string): Promise<ExecContainerResponse> | ExecContainerResponse | undefined {
    const live = this.live.get(liveKeyOf(exec.subject, key));
    if (live) {
      refuseIfDifferent(live.requestHash, requestHash, key);
      exec.onAccepted(live.jobId, this.deps.jobs.get(live.jobId)?.hosts ?? []);
      return exec.async ? { jobId: live.jobId, results: [] } : live.done;
    }
    const stored = this.deps.jobs.findByIdempotencyKey(exec.subject, key, new Date(Date.now() - IDEMPOTENCY_WINDOW_MS));
    if (!stored) return undefined;
    refuseIfDifferent(stored.requestHash, requestHash, key);
    exec.onAccepted(stored.id, stored.hosts);
    return { jobId: stored.id, results: exec.async ? [] : stored.results };
  }
}

function refuseIfDifferent(storedHash: string | undefined, requestHash: string, key: string): void {
  if (storedHash !== requestHash) {
    throw new MeshError(GrpcStatus.ALREADY_EXISTS, "idempotency key reused", `Idempotency-Key "${key}" was used in the last 24 h for a different request`);
  }
}

function liveKeyOf(subject: string, key: string): string {
  return `${subject}\u0000${key}`;
}

/** Identifies "the same request" for idempotency: everything that changes what would run. */
function requestHashOf(plan: ExecPlan): string {
  const identity: unknown[] = [describeTarget(plan.target), plan.containerId, plan.command, plan.env, plan.workingDir, plan.timeoutMs];
  // Only when there is stdin, so the hashes of keys stored before stdin existed still match.
  if (plan.stdin.length > 0) identity.push(createHash("sha256").update(plan.stdin).digest("hex"));
  return createHash("sha256").update(JSON.stringify(identity)).digest("hex");
}
