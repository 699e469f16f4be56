import type Database from "better-sqlite3";
import type { HostResult } from "../gen/meshexec/v1/exec.js";
import {
  IDEMPOTENCY_WINDOW_MS,
  type IdempotencyClaim,
  type JobQuery,
  type JobRecord,
  type JobStatus,
  type JobStore,
  type KeyedJob,
  type NewJob,
  type Page,
} from "./job-store.js";
import { decodeCursor, pageOf } from "./paging.js";
import type { WriteBatch } from "./write-batch.js";

type JobRow = {
  seq: number;
  id: string;
  router: string;
  subject: string;
  target: string;
  container_id: string;
  command: string;
  env_keys: string;
  hosts: string;
  status: JobStatus;
  error: string;
  idempotency_key: string | null;
  request_hash: string | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
};

export class SqliteJobStore implements JobStore {
  private readonly statements;

  constructor(
    private readonly db: Database.Database,
    private readonly writes: WriteBatch,
  ) {
    this.statements = {
      insert: db.prepare(
        `INSERT INTO jobs (id, router, subject, target, container_id, command, env_keys, hosts, status, idempotency_key, request_hash, created_at, updated_at)
         VALUES (@id, @router, @subject, @target, @containerId, @command, @envKeys, @hosts, 'running', @idempotencyKey, @requestHash, @createdAt, @createdAt)`,
      ),
      upsertResult: db.prepare(
        `INSERT INTO job_results (job_id, hostname, result) VALUES (?, ?, ?)
         ON CONFLICT (job_id, hostname) DO UPDATE SET result = excluded.result`,
      ),
      touch: db.prepare(`UPDATE jobs SET updated_at = ? WHERE id = ?`),
      finish: db.prepare(`UPDATE jobs SET status = ?, error = ?, updated_at = ?, finished_at = ? WHERE id = ?`),
      byId: db.prepare(`SELECT * FROM jobs WHERE id = ?`),
      resultsOf: db.prepare(`SELECT result FROM job_results WHERE job_id = ? ORDER BY hostname`),
      // Takes the key when no claim holds it, or when the one holding it has lapsed (claimed_at before notBefore).
      claim: db.prepare(
        `INSERT INTO idempotency_keys (subject, key, request_hash, job_id, claimed_at) VALUES (@subject, @idempotencyKey, @requestHash, @id, @createdAt)
         ON CONFLICT (subject, key) DO UPDATE SET request_hash = excluded.request_hash, job_id = excluded.job_id, claimed_at = excluded.claimed_at
         WHERE idempotency_keys.claimed_at < @notBefore`,
      ),
      claimOf: db.prepare(`SELECT job_id AS jobId, request_hash AS requestHash FROM idempotency_keys WHERE subject = ? AND key = ?`),
      failRunningOf: db.prepare(`UPDATE jobs SET status = 'failed', error = ?, updated_at = ?, finished_at = ? WHERE status = 'running' AND router = ?`),
      prune: db.prepare(`DELETE FROM jobs WHERE created_at < ? AND status != 'running'`),
      pruneKeys: db.prepare(`DELETE FROM idempotency_keys WHERE claimed_at < ?`),
    };
  }

  async create(job: NewJob): Promise<void> {
    const row = this.rowOf(job);
    this.writes.add(() => this.statements.insert.run(row));
  }

  async claimIdempotencyKey(job: KeyedJob, notBefore: Date): Promise<IdempotencyClaim> {
    // At once, not batched: the answer decides whether this router runs the job.
    this.writes.flush();
    const row = this.rowOf(job);
    return this.claimAndCreate(row, notBefore.getTime());
  }

  private readonly claimAndCreate = (row: ReturnType<SqliteJobStore["rowOf"]>, notBefore: number): IdempotencyClaim =>
    this.db.transaction(() => {
      if (this.statements.claim.run({ ...row, notBefore }).changes === 0) {
        return { owner: false as const, ...(this.statements.claimOf.get(row.subject, row.idempotencyKey) as { jobId: string; requestHash: string }) };
      }
      this.statements.insert.run(row);
      return { owner: true as const };
    })();

  private rowOf(job: NewJob) {
    return {
      ...job,
      command: JSON.stringify(job.command),
      envKeys: JSON.stringify(job.envKeys),
      hosts: JSON.stringify(job.hosts),
      idempotencyKey: job.idempotencyKey ?? null,
      requestHash: job.requestHash ?? null,
      createdAt: job.createdAt.getTime(),
    };
  }

  async addResults(jobId: string, results: HostResult[]): Promise<void> {
    // Serialised now, as they are when handed over: one string per host and no row arrays, which a fan-out would make a thousand of.
    const stored = results.map((result) => JSON.stringify(result));
    const now = Date.now();
    this.writes.add(() => {
      results.forEach((result, i) => this.statements.upsertResult.run(jobId, result.hostname, stored[i]));
      this.statements.touch.run(now, jobId);
    });
  }

  async finish(jobId: string, status: JobStatus, error = ""): Promise<void> {
    const now = Date.now();
    this.writes.add(() => this.statements.finish.run(status, error, now, now, jobId));
  }

  async get(id: string): Promise<JobRecord | undefined> {
    this.writes.flush();
    const row = this.statements.byId.get(id) as JobRow | undefined;
    return row && this.recordOf(row);
  }

  async list(query: JobQuery): Promise<Page<JobRecord>> {
    this.writes.flush();
    const conditions: string[] = [];
    const params: unknown[] = [];
    const where = (condition: string, param: unknown) => (conditions.push(condition), params.push(param));
    if (query.cursor) where("seq < ?", decodeCursor(query.cursor));
    if (query.subject) where("subject = ?", query.subject);
    if (query.target) where("target = ?", query.target);
    if (query.status) where("status = ?", query.status);
    const sql = `SELECT * FROM jobs ${conditions.length ? `WHERE ${conditions.join(" AND ")}` : ""} ORDER BY seq DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...params, query.limit + 1) as JobRow[];
    return pageOf(rows, query.limit, (row) => this.recordOf(row));
  }

  async failRunningOf(router: string, error: string): Promise<number> {
    this.writes.flush();
    const now = Date.now();
    return this.statements.failRunningOf.run(error, now, now, router).changes;
  }

  async pruneBefore(cutoff: Date): Promise<number> {
    this.writes.flush();
    this.statements.pruneKeys.run(Date.now() - IDEMPOTENCY_WINDOW_MS);
    return this.statements.prune.run(cutoff.getTime()).changes;
  }

  private recordOf(row: JobRow): JobRecord {
    return {
      id: row.id,
      router: row.router,
      subject: row.subject,
      target: row.target,
      containerId: row.container_id,
      command: JSON.parse(row.command),
      envKeys: JSON.parse(row.env_keys),
      hosts: JSON.parse(row.hosts),
      status: row.status,
      error: row.error,
      idempotencyKey: row.idempotency_key ?? undefined,
      requestHash: row.request_hash ?? undefined,
      createdAt: new Date(row.created_at),
      updatedAt: new Date(row.updated_at),
      finishedAt: row.finished_at === null ? undefined : new Date(row.finished_at),
      results: (this.statements.resultsOf.all(row.id) as Array<{ result: string }>).map((r) => JSON.parse(r.result)),
    };
  }
}
