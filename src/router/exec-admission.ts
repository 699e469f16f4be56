import { randomUUID } from "node:crypto";
import type { Logger } from "../log/index.js";
import type { SharedAdmissions, Stores } from "../store/index.js";
import { SubjectLimits, rateLimited, tooManyRunning, type ExecSlot, type SubjectLimitsConfig } from "./subject-limits.js";

/** Whether a subject may start one more exec now: a slot to release once its work has ended, or RESOURCE_EXHAUSTED with retryAfterSeconds. */
export interface ExecAdmission {
  admit(subject: string): Promise<ExecSlot>;
}

/**
 * A lone router's limits are its own, in memory (no I/O on the exec's path). Routers sharing
 * PostgreSQL share them there, so a subject gets its limits once across the mesh, not once per router.
 */
export function execAdmissionFor(stores: Stores, routerName: string, config: SubjectLimitsConfig, log: Logger): ExecAdmission {
  if (stores.sharedAdmissions) return new SharedSubjectLimits(stores.sharedAdmissions, routerName, config, log);
  const limits = new SubjectLimits(config);
  return { admit: async (subject) => limits.admit(subject) };
}

const NO_SLOT: ExecSlot = { release: () => {} };
/** How often subjects idle across the mesh are deleted from the table (by whichever router admits then). */
const FORGET_IDLE_EVERY_MS = 60_000;
/** A release the database did not take (it was unreachable) is sent again this often, until it is taken. */
const RETRY_RELEASE_MS = 5_000;

/**
 * The limits in PostgreSQL: one statement per admission and one per release (measured: see the
 * README's "Running several routers"). When the database cannot be reached, admit() throws its
 * UNAVAILABLE "database unavailable" (503) like every other database failure: a subject is never
 * admitted past limits nobody could check. A release that fails is retried until it is taken; the
 * slots of a router that dies are given back by the router that notices (or by itself, on restart).
 */
class SharedSubjectLimits implements ExecAdmission {
  private readonly unreleased = new Set<string>();
  private retryTimer: NodeJS.Timeout | undefined;
  private forgotIdleAtMs = performance.now();

  constructor(
    private readonly store: SharedAdmissions,
    private readonly routerName: string,
    private readonly config: SubjectLimitsConfig,
    private readonly log: Logger,
  ) {}

  async admit(subject: string): Promise<ExecSlot> {
    if (this.config.ratePerSecond === 0 && this.config.maxConcurrent === 0) return NO_SLOT;
    this.forgetIdleWhenDue();
    const slotId = randomUUID();
    const decision = await this.store.admit(subject, slotId, this.routerName, this.config);
    if (!decision.admitted) {
      throw decision.reason === "rate limited" ? rateLimited(subject, this.config, decision.retryAfterSeconds) : tooManyRunning(subject, decision.running);
    }
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.release([slotId]);
      },
    };
  }

  private release(slotIds: string[]): void {
    this.store.release(slotIds).catch((err: unknown) => {
      slotIds.forEach((id) => this.unreleased.add(id));
      this.log.warn({ err, slots: this.unreleased.size }, "could not give exec slots back to the shared limits; retrying");
      this.retryTimer ??= setTimeout(() => {
        this.retryTimer = undefined;
        const retried = [...this.unreleased];
        this.unreleased.clear();
        this.release(retried);
      }, RETRY_RELEASE_MS).unref();
    });
  }

  private forgetIdleWhenDue(): void {
    const now = performance.now();
    if (now - this.forgotIdleAtMs < FORGET_IDLE_EVERY_MS) return;
    this.forgotIdleAtMs = now;
    this.store.forgetIdle(this.config).catch((err: unknown) => this.log.warn({ err }, "could not forget idle subjects' limits; tried again within a minute"));
  }
}
