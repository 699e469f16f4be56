/** The per-subject limits an admission checks: the router's --rate-limit, --rate-limit-burst and --max-concurrent-execs. */
export interface AdmissionLimits {
  /** Execs a subject may start per second, on average; 0: no rate limit. */
  ratePerSecond: number;
  /** Execs an idle subject may start at once, before the rate applies. */
  burst: number;
  /** Execs a subject may have running at once; 0: no limit. */
  maxConcurrent: number;
}

/** What one admission decided: a slot taken (to be released by id), or why not. */
export type AdmissionDecision =
  | { admitted: true }
  | { admitted: false; reason: "too many running"; running: number }
  | { admitted: false; reason: "rate limited"; retryAfterSeconds: number };

/**
 * Per-subject limits kept where every router of a mesh sees them (PostgreSQL), so a subject has the
 * same limits whichever router a call reaches. Each slot row carries the router that took it, so
 * the slots of a router that died or restarted can be given back.
 */
export interface SharedAdmissions {
  /** Takes a token and a slot `slotId` for `subject` on `router`, atomically, or says why not. */
  admit(subject: string, slotId: string, router: string, limits: AdmissionLimits): Promise<AdmissionDecision>;
  /** Gives a slot back; releasing one already released (or never taken) changes nothing. */
  release(slotIds: readonly string[]): Promise<void>;
  /** Gives back every slot `router` holds (it restarted, or the mesh lost it); returns how many. */
  releaseAllOf(router: string): Promise<number>;
  /** Forgets subjects with nothing running whose bucket is full again: they start as a subject never seen. */
  forgetIdle(limits: AdmissionLimits): Promise<number>;
}
