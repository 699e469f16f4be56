import { GrpcStatus, MeshError } from "../errors/index.js";

/**
 * Why a job's work was aborted when CancelJob aborted it, as its AbortSignal's reason: dispatch
 * tells it from a caller going away, ending running hosts "cancelled" and unstarted ones "skipped".
 */
export class JobCancellation extends Error {}

/** How long CancelJob waits for the job to record its end after the abort; the kill itself is not waited for. */
const CANCEL_SETTLE_MS = 10_000;

/** The jobs this router coordinates, while they run: the one place that can abort each. */
export class RunningJobs {
  private readonly running = new Map<string, { controller: AbortController; done: Promise<unknown> }>();

  /** Registers a job's work; the returned signal aborts when the job is cancelled. Forgotten once `done` settles. */
  register(jobId: string, controller: AbortController, done: Promise<unknown>): void {
    this.running.set(jobId, { controller, done });
    const forget = () => this.running.delete(jobId);
    done.then(forget, forget);
  }

  /**
   * Aborts the job's work with a JobCancellation saying who cancelled it, and waits (bounded) for
   * the job to record its end. False when this router runs no such job.
   */
  async cancel(jobId: string, subject: string): Promise<boolean> {
    const job = this.running.get(jobId);
    if (!job) return false;
    job.controller.abort(new JobCancellation(`cancelled by ${subject}`));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new MeshError(
              GrpcStatus.DEADLINE_EXCEEDED,
              "cancel still settling",
              `job ${jobId} was cancelled but had not ended after ${CANCEL_SETTLE_MS / 1000} s`,
            ),
          ),
        CANCEL_SETTLE_MS,
      );
    });
    try {
      await Promise.race([job.done.catch(() => {}), late]);
    } finally {
      clearTimeout(timer);
    }
    return true;
  }
}
