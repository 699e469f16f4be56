import type { HostResult } from "../gen/meshexec/v1/exec.js";
import { GrpcStatus, MeshError, asMeshError } from "../errors/index.js";
import type { Logger } from "../log/index.js";
import type { JobStatus, JobStore } from "../store/index.js";

/** How long past a job's own time limit its results are kept in memory, waiting for the database to come back. */
export const RESULT_WRITE_MARGIN_MS = 30_000;
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 2_000;
/** How long a job whose results were lost keeps trying to record that it failed (a single small write). */
const FAILURE_RECORD_WITHIN_MS = 600_000;

/**
 * Writes one job's progress to its store, in order, and keeps what it could not write yet in
 * memory while the database is unreachable (the store answers UNAVAILABLE), retrying with backoff
 * for up to `keepForMs`. Past that, the job is recorded failed with the reason instead, so a job
 * never stays "running" with its results silently dropped. Any other error is not retried.
 *
 * Results given one at a time (an async job, host by host) are written together once per
 * event-loop turn: a fan-out to 1,000 hosts is a few writes, not 1,000.
 */
export class JobRecorder {
  private pending: HostResult[] = [];
  /** The writes so far, in order. */
  private written: Promise<void> = Promise.resolve();
  /** Set once a write could not be made in time; later writes are skipped (the job is recorded failed instead). */
  private failure: MeshError | undefined;

  constructor(
    private readonly store: JobStore,
    private readonly jobId: string,
    private readonly keepForMs: number,
    private readonly log: Logger,
  ) {}

  addResult(result: HostResult): void {
    this.pending.push(result);
    if (this.pending.length === 1) setImmediate(() => this.writePending());
  }

  /**
   * Writes the results not written yet and the job's end. Resolves once the record is durable;
   * rejects with UNAVAILABLE when it could not be written in time (the job is then recorded failed
   * as soon as the database allows it).
   */
  async finish(results: HostResult[], status: JobStatus, error = ""): Promise<void> {
    this.pending.push(...results);
    this.writePending();
    await this.chain(() => this.store.finish(this.jobId, status, error));
    if (this.failure) throw this.failure;
  }

  private writePending(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    void this.chain(() => this.store.addResults(this.jobId, batch));
  }

  private chain(write: () => Promise<void>): Promise<void> {
    this.written = this.written.then(async () => {
      if (this.failure) return;
      try {
        await retryWhileUnavailable(write, Date.now() + this.keepForMs);
      } catch (err) {
        this.recordFailure(err);
      }
    });
    return this.written;
  }

  /** The job's results are lost: say so in its record, once the database takes writes again. */
  private recordFailure(err: unknown): void {
    const cause = asMeshError(err);
    const reason = `results not recorded: ${cause.message}`;
    this.failure = new MeshError(
      GrpcStatus.UNAVAILABLE,
      "results not recorded",
      `job ${this.jobId} ran, but its results could not be recorded (${cause.message}); it is recorded failed`,
      { cause: err },
    );
    this.log.error({ jobId: this.jobId, err }, "job results not recorded; the job is recorded failed once the database is back");
    retryWhileUnavailable(() => this.store.finish(this.jobId, "failed", reason), Date.now() + FAILURE_RECORD_WITHIN_MS).catch((lastErr) =>
      this.log.error({ jobId: this.jobId, err: lastErr }, "job could not be recorded failed; it stays running until its router restarts"),
    );
  }
}

/** Retries `write` while the store answers UNAVAILABLE, with doubling backoff, until `untilMs`. */
export async function retryWhileUnavailable(write: () => Promise<void>, untilMs: number): Promise<void> {
  for (let waitMs = FIRST_RETRY_MS; ; waitMs = Math.min(2 * waitMs, MAX_RETRY_MS)) {
    try {
      return await write();
    } catch (err) {
      if (asMeshError(err).code !== GrpcStatus.UNAVAILABLE || Date.now() + waitMs > untilMs) throw err;
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}
