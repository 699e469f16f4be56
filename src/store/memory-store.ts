import type { HostResult } from "../gen/meshexec/v1/exec.js";
import { AUDIT_PRUNE_FLOOR_MS, type AuditEntry, type AuditLog, type NewAuditEntry } from "./audit-log.js";
import type { JobQuery, JobRecord, JobStatus, JobStore, NewJob, Page } from "./job-store.js";
import { decodeCursor, pageOf } from "./paging.js";

/** In-memory JobStore for unit tests of the logic above it; nothing survives the process. */
export class MemoryJobStore implements JobStore {
  private readonly jobs: Array<JobRecord & { seq: number }> = [];

  create(job: NewJob): void {
    this.jobs.push({ ...job, seq: this.jobs.length + 1, status: "running", error: "", results: [], updatedAt: job.createdAt });
  }

  addResults(jobId: string, results: HostResult[]): void {
    const job = this.find(jobId);
    if (!job) return;
    const byHost = new Map(job.results.map((r) => [r.hostname, r]));
    results.forEach((r) => byHost.set(r.hostname, r));
    job.results = [...byHost.values()].sort((a, b) => (a.hostname < b.hostname ? -1 : 1));
    job.updatedAt = new Date();
  }

  finish(jobId: string, status: JobStatus, error = ""): void {
    const job = this.find(jobId);
    if (job) Object.assign(job, { status, error, updatedAt: new Date(), finishedAt: new Date() });
  }

  get(id: string): JobRecord | undefined {
    return this.find(id);
  }

  list(query: JobQuery): Page<JobRecord> {
    const below = query.cursor ? decodeCursor(query.cursor) : Infinity;
    const rows = this.jobs
      .filter((j) => j.seq < below && (!query.subject || j.subject === query.subject) && (!query.target || j.target === query.target) && (!query.status || j.status === query.status))
      .reverse()
      .slice(0, query.limit + 1);
    return pageOf(rows, query.limit, (row) => row);
  }

  findByIdempotencyKey(subject: string, key: string, notBefore: Date): JobRecord | undefined {
    return [...this.jobs].reverse().find((j) => j.subject === subject && j.idempotencyKey === key && j.createdAt >= notBefore);
  }

  failRunning(error: string): number {
    const running = this.jobs.filter((j) => j.status === "running");
    running.forEach((j) => this.finish(j.id, "failed", error));
    return running.length;
  }

  pruneBefore(cutoff: Date): number {
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

  append(entry: NewAuditEntry): void {
    const seq = this.entries.length + 1;
    this.entries.push({ ...entry, seq, id: String(seq) });
  }

  list(query: { limit: number; cursor?: string }): Page<AuditEntry> {
    const below = query.cursor ? decodeCursor(query.cursor) : Infinity;
    const rows = this.entries.filter((e) => e.seq < below).reverse().slice(0, query.limit + 1);
    return pageOf(rows, query.limit, ({ seq: _seq, ...entry }) => entry);
  }

  pruneBefore(cutoff: Date): number {
    const floor = Date.now() - AUDIT_PRUNE_FLOOR_MS;
    const expired = this.entries.filter((e) => e.time < cutoff);
    if (expired.some((e) => e.time.getTime() > floor)) throw new Error(PRUNE_REFUSED);
    this.entries.splice(0, this.entries.length, ...this.entries.filter((e) => e.time >= cutoff));
    return expired.length;
  }
}

/** The same words as the SQLite trigger's. */
const PRUNE_REFUSED = "the audit log is append-only: only entries older than 1 day may be pruned";
