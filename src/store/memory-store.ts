import type { HostResult } from "../gen/meshexec/v1/exec.js";
import { AUDIT_PRUNE_FLOOR_MS, AUDIT_PRUNE_REFUSED, type AuditEntry, type AuditLog, type NewAuditEntry } from "./audit-log.js";
import {
  IDEMPOTENCY_WINDOW_MS,
  type IdempotencyClaim,
  type JobQuery,
  type KeyedJob,
  type JobRecord,
  type JobStatus,
  type JobStore,
  type NewJob,
  type Page,
} from "./job-store.js";
import { decodeCursor, pageOf } from "./paging.js";

/** In-memory JobStore for unit tests of the logic above it; nothing survives the process. */
export class MemoryJobStore implements JobStore {
  private readonly jobs: Array<JobRecord & { seq: number }> = [];
  private readonly claims = new Map<string, { jobId: string; requestHash: string; claimedAt: Date }>();

  async create(job: NewJob): Promise<void> {
    this.jobs.push({ ...job, seq: this.jobs.length + 1, status: "running", error: "", results: [], updatedAt: job.createdAt });
  }

  async addResults(jobId: string, results: HostResult[]): Promise<void> {
    const job = this.find(jobId);
    if (!job) return;
    const byHost = new Map(job.results.map((r) => [r.hostname, r]));
    results.forEach((r) => byHost.set(r.hostname, r));
    job.results = [...byHost.values()].sort((a, b) => (a.hostname < b.hostname ? -1 : 1));
    job.updatedAt = new Date();
  }

  async finish(jobId: string, status: JobStatus, error = ""): Promise<void> {
    const job = this.find(jobId);
    if (job) Object.assign(job, { status, error, updatedAt: new Date(), finishedAt: new Date() });
  }

  async get(id: string): Promise<JobRecord | undefined> {
    return this.find(id);
  }

  async list(query: JobQuery): Promise<Page<JobRecord>> {
    const below = query.cursor ? decodeCursor(query.cursor) : Infinity;
    const rows = this.jobs
      .filter(
        (j) =>
          j.seq < below &&
          (!query.subject || j.subject === query.subject) &&
          (!query.target || j.target === query.target) &&
          (!query.status || j.status === query.status),
      )
      .reverse()
      .slice(0, query.limit + 1);
    return pageOf(rows, query.limit, (row) => row);
  }

  async claimIdempotencyKey(job: KeyedJob, notBefore: Date): Promise<IdempotencyClaim> {
    const id = `${job.subject}\u0000${job.idempotencyKey}`;
    const held = this.claims.get(id);
    if (held && held.claimedAt >= notBefore) return { owner: false, jobId: held.jobId, requestHash: held.requestHash };
    this.claims.set(id, { jobId: job.id, requestHash: job.requestHash, claimedAt: job.createdAt });
    await this.create(job);
    return { owner: true };
  }

  async failRunningOf(router: string, error: string): Promise<number> {
    const running = this.jobs.filter((j) => j.status === "running" && j.router === router);
    await Promise.all(running.map((j) => this.finish(j.id, "failed", error)));
    return running.length;
  }

  async pruneBefore(cutoff: Date): Promise<number> {
    const lapsed = Date.now() - IDEMPOTENCY_WINDOW_MS;
    [...this.claims].filter(([, claim]) => claim.claimedAt.getTime() < lapsed).forEach(([id]) => this.claims.delete(id));
    const keep = this.jobs.filter((j) => j.status === "running" || j.createdAt >= cutoff);
    const pruned = this.jobs.length - keep.length;
    this.jobs.splice(0, this.jobs.length, ...keep);
    return pruned;
  }

  private find(id: string) {
    return this.jobs.find((j) => j.id === id);
  }
}

export class MemoryAuditLog implements AuditLog {
  private readonly entries: Array<AuditEntry & { seq: number }> = [];

  async append(entry: NewAuditEntry): Promise<void> {
    const seq = this.entries.length + 1;
    this.entries.push({ ...entry, seq, id: String(seq) });
  }

  async list(query: { limit: number; cursor?: string }): Promise<Page<AuditEntry>> {
    const below = query.cursor ? decodeCursor(query.cursor) : Infinity;
    const rows = this.entries
      .filter((e) => e.seq < below)
      .reverse()
      .slice(0, query.limit + 1);
    return pageOf(rows, query.limit, ({ seq: _seq, ...entry }) => entry);
  }

  async pruneBefore(cutoff: Date): Promise<number> {
    const floor = Date.now() - AUDIT_PRUNE_FLOOR_MS;
    const expired = this.entries.filter((e) => e.time < cutoff);
    if (expired.some((e) => e.time.getTime() > floor)) throw new Error(AUDIT_PRUNE_REFUSED);
    this.entries.splice(0, this.entries.length, ...this.entries.filter((e) => e.time >= cutoff));
    return expired.length;
  }
}
