import { GrpcStatus, MeshError } from "../errors/index.js";

export interface SubjectLimitsConfig {
  /** Execs a subject may start per second, on average; 0: no rate limit. */
  ratePerSecond: number;
  /** How many execs a subject that was idle may start at once, before the rate applies. */
  burst: number;
  /** Execs (async jobs included) a subject may have running at once; 0: no limit. */
  maxConcurrent: number;
}

/**
 * Generous for people and for automation (a deploy fanning out to a fleet is one exec), yet one
 * subject can no longer run 500 execs in 4 s: past the burst, 20 a second, 72,000 an hour.
 * The --rate-limit, --rate-limit-burst and --max-concurrent-execs flags default to these.
 */
export const DEFAULT_SUBJECT_LIMITS: SubjectLimitsConfig = { ratePerSecond: 20, burst: 60, maxConcurrent: 32 };

/** What admit() hands out: released once the exec's work has ended. Releasing twice is harmless. */
export interface ExecSlot {
  release(): void;
}

interface SubjectState {
  tokens: number;
  refilledAtMs: number;
  running: number;
}

/** How often idle subjects are forgotten. */
const SWEEP_EVERY_MS = 10_000;

/**
 * Per-subject limits on execs: a token bucket (ratePerSecond, up to burst) and a cap on how
 * many run at once. A subject is forgotten once it is idle: nothing running and its bucket full
 * again, which is exactly the state a subject never seen starts in. So the memory held is one
 * small entry per subject active in the last burst/rate seconds, whatever the callers do.
 */
export class SubjectLimits {
  private readonly subjects = new Map<string, SubjectState>();
  private sweptAtMs: number;

  constructor(
    private readonly config: SubjectLimitsConfig,
    private readonly now: () => number = performance.now.bind(performance),
  ) {
    this.sweptAtMs = now();
  }

  /** Takes a slot for one exec of `subject`, or throws RESOURCE_EXHAUSTED saying when to retry. */
  admit(subject: string): ExecSlot {
    const now = this.now();
    if (now - this.sweptAtMs >= SWEEP_EVERY_MS) this.forgetIdle(now);
    const state = this.subjects.get(subject) ?? { tokens: this.config.burst, refilledAtMs: now, running: 0 };
    this.refill(state, now);
    const { ratePerSecond, maxConcurrent } = this.config;
    if (maxConcurrent > 0 && state.running >= maxConcurrent) {
      throw tooManyRunning(subject, state.running);
    }
    if (ratePerSecond > 0 && state.tokens < 1) {
      throw rateLimited(subject, this.config, Math.ceil((1 - state.tokens) / ratePerSecond));
    }
    if (ratePerSecond > 0) state.tokens -= 1;
    state.running += 1;
    this.subjects.set(subject, state);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        state.running -= 1;
      },
    };
  }

  /** How many subjects are remembered, for tests of the bound. */
  get size(): number {
    return this.subjects.size;
  }

  private refill(state: SubjectState, now: number): void {
    state.tokens = Math.min(this.config.burst, state.tokens + ((now - state.refilledAtMs) / 1000) * this.config.ratePerSecond);
    state.refilledAtMs = now;
  }

  private forgetIdle(now: number): void {
    this.sweptAtMs = now;
    for (const [subject, state] of this.subjects) {
      this.refill(state, now);
      if (state.running === 0 && state.tokens >= this.config.burst) this.subjects.delete(subject);
    }
  }
}

/** The refusal of a subject at its --max-concurrent-execs, wherever its running execs are counted. */
export function tooManyRunning(subject: string, running: number): MeshError {
  return limited("too many execs running", `subject "${subject}" already has ${running} execs running, the most it may (--max-concurrent-execs)`, 1);
}

/** The refusal of a subject past its token bucket, wherever the bucket is kept. */
export function rateLimited(subject: string, config: SubjectLimitsConfig, retryAfterSeconds: number): MeshError {
  return limited(
    "rate limited",
    `subject "${subject}" may start ${config.ratePerSecond} execs per second, ${config.burst} at once (--rate-limit, --rate-limit-burst)`,
    retryAfterSeconds,
  );
}

function limited(error: string, details: string, retryAfterSeconds: number): MeshError {
  return new MeshError(GrpcStatus.RESOURCE_EXHAUSTED, error, details, { retryAfterSeconds });
}
