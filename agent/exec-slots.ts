/** Execs an agent runs at once by default (agent --max-in-flight). */
export const DEFAULT_MAX_IN_FLIGHT_EXECS = 32;
/** Execs queued behind those by default (agent --max-queued); past it they are refused at once. */
export const DEFAULT_MAX_QUEUED_EXECS = 64;

/**
 * Bounds the execs an agent runs at once, with a bounded queue behind them: past the queue a
 * request is turned away at once instead of waiting without limit.
 */
export class ExecSlots {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly maxRunning: number,
    readonly maxQueued: number,
  ) {}

  get inUse(): number {
    return this.running + this.waiting.length;
  }

  /** Resolves with a release function once a slot is free, or with undefined when the queue is full. */
  acquire(): Promise<(() => void) | undefined> {
    if (this.running < this.maxRunning) {
      this.running++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.maxQueued) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiting.push(() => resolve(this.releaser())));
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    };
  }
}
