import { createHash, randomUUID } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import type { ExecGrants } from "../auth/index.js";
import type { ExecContainerResponse, HostResult } from "../gen/meshexec/v1/exec.js";
import { AGENT_ANSWER_GRACE_MS } from "../contract/index.js";
import { GrpcStatus, MeshError, asMeshError } from "../errors/index.js";
import type { Logger } from "../log/index.js";
import type { RouterMetrics } from "../metrics/index.js";
import { IDEMPOTENCY_WINDOW_MS, jobStatusOf, type JobStore, type KeyedJob, type NewJob } from "../store/index.js";
import type { TraceContext } from "../trace/index.js";
import { fanOut, runOnOne, type DispatchOptions } from "./dispatch.js";
import { KeptOutput } from "./kept-output.js";
import { JobRecorder, RESULT_WRITE_MARGIN_MS } from "./job-recorder.js";
import { LiveOutput, type LiveOutputSink } from "./live-output.js";
import type { FleetView } from "./fleet-view.js";
import type { HostLink } from "./host-link.js";
import { describeTarget } from "./target.js";
import { authorizeTarget } from "./target-grants.js";
import type { ExecPlan } from "./validate-exec.js";
import { hostsOfShare } from "../contract/index.js";
import { JobCancellation, type RunningJobs } from "./job-cancellation.js";

export interface ExecJobsDeps {
  /** This router's name (--name), recorded on its jobs. */
  routerName: string;
  /** The whole fleet: this router's agents and, in a mesh, every other router's. */
  fleet: FleetView;
  jobs: JobStore;
  /** Tracks work in flight, so a draining router can wait for it. */
  track: <T>(work: Promise<T>) => Promise<T>;
  metrics: RouterMetrics;
  log: Logger;
  /** Bytes of stdout and of stderr kept per host (the agents' cap). */
  hostOutputLimitBytes: number;
  /** Bytes of output kept for one exec over all its hosts. */
  totalOutputLimitBytes: number;
  /** The jobs this router runs, which CancelJob aborts. */
  running: RunningJobs;
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
  /** Settles once the store has decided who runs the key: this router (with its work), or a job already claimed. */
  claimed: Promise<ClaimedJob>;
}

interface ClaimedJob {
  jobId: string;
  hosts: string[];
  /** This router's run of it, when this router owns the key. */
  done?: Promise<ExecContainerResponse>;
}

/** How often a caller whose key another router (or an earlier call) holds looks at that job, at first and at most. */
const CLAIMED_JOB_POLL_MS = { first: 50, max: 1_000 } as const;

/**
 * Turns each accepted exec into a job: recorded before anything runs, filled in as hosts
 * answer, finished with a status. A repeated idempotency key returns the first job instead of
 * running again, even while that job is still running, whichever router of the mesh runs it:
 * the store decides who owns a key, and the others wait for that job to end and answer with it.
 */
export class ExecJobs {
  /** This router's own keyed execs, so its repeats share one claim without asking the store again. */
  private readonly live = new Map<string, LiveJob>();

  constructor(private readonly deps: ExecJobsDeps) {}

  async run(exec: AcceptedExec): Promise<ExecContainerResponse> {
    let started: Promise<unknown> | undefined;
    try {
      const response = await this.start(exec);
      started = response.started;
      return await response.reply;
    } finally {
      if (started) started.finally(() => exec.onSettled?.()).catch(() => {});
      else exec.onSettled?.();
    }
  }

  /** The reply to give, and the work started for it, if any. */
  private async start(exec: AcceptedExec): Promise<{ reply: Promise<ExecContainerResponse> | ExecContainerResponse; started?: Promise<unknown> }> {
    // Only a keyed request can be replayed, so only it needs the hash that tells replays apart.
    const keyed = exec.idempotencyKey ? { key: exec.idempotencyKey, requestHash: requestHashOf(exec.plan) } : undefined;
    const liveKey = keyed && liveKeyOf(exec.subject, keyed.key);
    const live = liveKey && this.live.get(liveKey);
    if (keyed && live) {
      refuseIfDifferent(live.requestHash, keyed.requestHash, keyed.key);
      return { reply: this.answerRepeat(await live.claimed, exec) };
    }
    const sessions = authorizeTarget(exec.grants.targets, exec.plan.target, this.deps.fleet.select(exec.plan.target));
    const job: NewJob = {
      id: randomUUID(),
      router: this.deps.routerName,
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
    if (!keyed || !liveKey) {
      await this.deps.jobs.create(job);
      const done = this.begin(job, sessions, exec);
      return { reply: exec.async ? { jobId: job.id, results: [] } : done, started: done };
    }
    // Registered before the store is asked, so this router's own repeats wait on this one claim.
    const claimed = this.claim({ ...job, idempotencyKey: keyed.key, requestHash: keyed.requestHash }, sessions, exec);
    this.live.set(liveKey, { requestHash: keyed.requestHash, claimed });
    const forget = () => this.live.delete(liveKey);
    claimed.then((c) => (c.done ?? Promise.resolve()).then(forget, forget), forget);
    const outcome = await claimed;
    if (!outcome.done) return { reply: this.answerRepeat(outcome, exec) };
    return { reply: exec.async ? { jobId: outcome.jobId, results: [] } : outcome.done, started: outcome.done };
  }

  private async claim(job: KeyedJob, sessions: HostLink[], exec: AcceptedExec): Promise<ClaimedJob> {
    const claim = await this.deps.jobs.claimIdempotencyKey(job, new Date(Date.now() - IDEMPOTENCY_WINDOW_MS));
    if (claim.owner) return { jobId: job.id, hosts: job.hosts, done: this.begin(job, sessions, exec) };
    refuseIfDifferent(claim.requestHash, job.requestHash, job.idempotencyKey);
    const stored = await this.deps.jobs.get(claim.jobId);
    if (!stored) {
      throw new MeshError(
        GrpcStatus.FAILED_PRECONDITION,
        "idempotency key spent",
        `Idempotency-Key "${job.idempotencyKey}" named job ${claim.jobId}, which is no longer kept (--job-ttl)`,
      );
    }
    return { jobId: stored.id, hosts: stored.hosts };
  }

  /** Starts the job's work (already recorded), telling the caller its id first. */
  private begin(job: NewJob, sessions: HostLink[], exec: AcceptedExec): Promise<ExecContainerResponse> {
    exec.onAccepted(job.id, job.hosts);
    // One signal stops the job's hosts: CancelJob aborts it (with a JobCancellation), and so does a
    // waiting caller going away. (AbortSignal.any would do the same with a signal more per exec.)
    const stop = new AbortController();
    const callerLeft = () => stop.abort();
    if (!exec.async && exec.signal.aborted) callerLeft();
    else if (!exec.async) exec.signal.addEventListener("abort", callerLeft, { once: true });
    const done = this.deps.track(this.execute(job.id, sessions, exec, stop.signal));
    this.deps.running.register(job.id, stop, done);
    done.finally(() => exec.signal.removeEventListener("abort", callerLeft)).catch(() => {});
    if (exec.async) done.catch(() => {}); // its outcome is in the job record
    return done;
  }

  /** A repeat's answer: the job's id at once (async), or its results once it has ended, wherever it runs. */
  private answerRepeat(claimed: ClaimedJob, exec: AcceptedExec): Promise<ExecContainerResponse> | ExecContainerResponse {
    exec.onAccepted(claimed.jobId, claimed.hosts);
    if (exec.async) return { jobId: claimed.jobId, results: [] };
    return claimed.done ?? this.endedJob(claimed.jobId, exec);
  }

  /**
   * Waits for a job another router runs (or an earlier call ran) to end, looking at the store
   * with backoff, for as long as the caller waits: its deadline, or the job's own time limit.
   */
  private async endedJob(jobId: string, exec: AcceptedExec): Promise<ExecContainerResponse> {
    const giveUpAt = Date.now() + exec.plan.timeoutMs + AGENT_ANSWER_GRACE_MS;
    for (let waitMs: number = CLAIMED_JOB_POLL_MS.first; ; waitMs = Math.min(2 * waitMs, CLAIMED_JOB_POLL_MS.max)) {
      const job = await this.deps.jobs.get(jobId);
      if (!job) throw new MeshError(GrpcStatus.NOT_FOUND, "job not found", `the job ${jobId} of this Idempotency-Key is no longer kept`);
      if (job.status !== "running") return { jobId, results: job.results };
      if (exec.signal.aborted) throw new MeshError(GrpcStatus.CANCELLED, "cancelled", "the caller went away");
      if (Date.now() + waitMs > giveUpAt) {
        throw new MeshError(GrpcStatus.DEADLINE_EXCEEDED, "job still running", `job ${jobId} (this Idempotency-Key's) is still running; see GET /job/${jobId}`);
      }
      await delay(waitMs, undefined, { signal: exec.signal }).catch(() => {}); // an abort is answered above, on the next look
    }
  }

  /** Runs the job until `stop` aborts: with a JobCancellation when CancelJob cancels it. */
  private async execute(jobId: string, sessions: HostLink[], exec: AcceptedExec, stop: AbortSignal): Promise<ExecContainerResponse> {
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
    const recorder = new JobRecorder(this.deps.jobs, jobId, plan.timeoutMs + RESULT_WRITE_MARGIN_MS, this.deps.log);
    const opts: DispatchOptions = {
      signal: stop,
      answerWithinMs: plan.timeoutMs + AGENT_ANSWER_GRACE_MS,
      onOutput: live && ((hostname, stream, data) => live.add(hostname, stream, data)),
      onResult: (result) => {
        live?.finish(result.hostname);
        // An async job shows each host as it answers; a waiting caller's job is written once, at the end.
        if (exec.async) recorder.addResult(result);
        exec.onResult?.(result);
      },
      kept: new KeptOutput(bounds),
    };
    let results: HostResult[];
    try {
      const singleHost = plan.target.kind === "host" || plan.target.kind === "any";
      const rolling = {
        maxConcurrency: plan.maxConcurrency && hostsOfShare(plan.maxConcurrency, sessions.length),
        maxErrors: plan.maxErrors && hostsOfShare(plan.maxErrors, sessions.length),
      };
      results = singleHost ? [await runOnOne(sessions, order, opts)] : await fanOut(sessions, order, opts, rolling);
    } catch (err) {
      await recorder.finish([], "failed", asMeshError(err).message).catch(() => {}); // the recorder logged it; the exec's own error is the answer
      throw err;
    }
    this.deps.metrics.observeExec(results);
    // Answered once the results are recorded: a caller told of a job can always read it back.
    await recorder.finish(exec.async ? [] : results, stop.reason instanceof JobCancellation ? "cancelled" : jobStatusOf(results));
    return { jobId, results };
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
  // Only when given, so the hashes of keys stored before rolling execution existed still match.
  if (plan.maxConcurrency || plan.maxErrors) identity.push(plan.maxConcurrency ?? null, plan.maxErrors ?? null);
  // Only when there is stdin, so the hashes of keys stored before stdin existed still match.
  if (plan.stdin.length > 0) identity.push(createHash("sha256").update(plan.stdin).digest("hex"));
  return createHash("sha256").update(JSON.stringify(identity)).digest("hex");
}
