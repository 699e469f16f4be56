import type { JobStatus } from "../contract/index.js";
import type { HostResult } from "../gen/meshexec/v1/exec.js";

export type { JobStatus };

/** What is known of a job when it starts. Env values are never part of it: only their keys. */
export interface NewJob {
  id: string;
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

/** Where jobs live. Narrow on purpose: SQLite in production, memory in unit tests. */
export interface JobStore {
  create(job: NewJob): void;
  /** Records hosts' results as they arrive; a host's later result replaces its earlier one. */
  addResults(jobId: string, results: HostResult[]): void;
  finish(jobId: string, status: JobStatus, error?: string): void;
  get(id: string): JobRecord | undefined;
  /** Newest first. */
  list(query: JobQuery): Page<JobRecord>;
  /** The job a subject started with this idempotency key at or after notBefore, if any. */
  findByIdempotencyKey(subject: string, key: string, notBefore: Date): JobRecord | undefined;
  /** Marks every running job failed with this reason; returns how many. */
  failRunning(error: string): number;
  /** Deletes finished jobs created before cutoff; returns how many. */
  pruneBefore(cutoff: Date): number;
}

/** completed: every host ran; partial_failure: some did; failed: none did. */
export function jobStatusOf(results: HostResult[]): JobStatus {
  const ran = results.filter((r) => r.status === "ok").length;
  if (results.length > 0 && ran === results.length) return "completed";
  return ran > 0 ? "partial_failure" : "failed";
}
