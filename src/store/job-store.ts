import type { JobStatus } from "../contract/index.js";
import type { HostResult } from "../gen/meshexec/v1/exec.js";

export type { JobStatus };

/** How long an idempotency key refers to its first job; after it, the key may start a new one. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;

/** What is known of a job when it starts. Env values are never part of it: only their keys. */
export interface NewJob {
  id: string;
  /** The name of the router coordinating it (--name): only that router, or the routers that saw it die, fail it. */
  router: string;
  subject: string;
  target: string;
  containerId: string;
  command: string[];
  envKeys: string[];
  /** The hosts the target selected, so progress can be shown as done of targeted. */
  hosts: string[];
  idempotencyKey?: string;
  /** SHA-256 of the request, to tell a replay from a different request under the same key. */
  requestHash?: string;
  createdAt: Date;
}

export interface JobRecord extends NewJob {
  status: JobStatus;
  /** Why the job as a whole failed (refused, router restarted); empty otherwise. */
  error: string;
  /** One per host that has answered so far, sorted by hostname. */
  results: HostResult[];
  updatedAt: Date;
  finishedAt?: Date;
}

export interface JobQuery {
  /** Only this subject's jobs; every subject's when unset. */
  subject?: string;
  target?: string;
  status?: JobStatus;
  limit: number;
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  /** Opaque; pass it back to get the next (older) page. Absent on the last page. */
  nextCursor?: string;
}

/**
 * Where jobs live. Narrow on purpose: SQLite for a lone router, PostgreSQL for several, memory in
 * unit tests. Asynchronous because PostgreSQL is across the network; a write's promise settles once
 * it is durable (SQLite: committed with its event-loop turn's batch), and rejects with
 * UNAVAILABLE "database unavailable: …" when the database cannot be reached.
 */
export interface JobStore {
  create(job: NewJob): Promise<void>;
  /** Records hosts' results as they arrive; a host's later result replaces its earlier one. */
  addResults(jobId: string, results: HostResult[]): Promise<void>;
  finish(jobId: string, status: JobStatus, error?: string): Promise<void>;
  get(id: string): Promise<JobRecord | undefined>;
  /** Newest first. */
  list(query: JobQuery): Promise<Page<JobRecord>>;
  /**
   * create() for a job sent with an idempotency key, deciding atomically across every router
   * sharing the store who runs it: the first to claim (subject, key) since notBefore owns it, and
   * its job is created in the same transaction (so a claimed key always has its job); every later
   * claim creates nothing and gets the owner's job id and request hash.
   */
  claimIdempotencyKey(job: KeyedJob, notBefore: Date): Promise<IdempotencyClaim>;
  /** Marks the running jobs coordinated by `router` failed with this reason; returns how many. */
  failRunningOf(router: string, error: string): Promise<number>;
  /** Deletes finished jobs created before cutoff, and idempotency claims past IDEMPOTENCY_WINDOW_MS; returns how many jobs. */
  pruneBefore(cutoff: Date): Promise<number>;
}

export type KeyedJob = NewJob & { idempotencyKey: string; requestHash: string };

export type IdempotencyClaim = { owner: true } | { owner: false; jobId: string; requestHash: string };

/** completed: every host ran; partial_failure: some did; failed: none did. */
export function jobStatusOf(results: HostResult[]): JobStatus {
  const ran = results.filter((r) => r.status === "ok").length;
  if (results.length > 0 && ran === results.length) return "completed";
  return ran > 0 ? "partial_failure" : "failed";
}
