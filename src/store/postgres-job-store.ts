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
import type { PostgresDatabase, Query } from "./postgres-database.js";

type JobRow = {
  seq: string;
  id: string;
  router: string;
  subject: string;
  target: string;
  container_id: string;
  command: string[];
  env_keys: string[];
  hosts: string[];
  status: JobStatus;
  error: string;
  idempotency_key: string | null;
  request_hash: string | null;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
  results: HostResult[];
};

// Results sorted by hostname byte by byte (COLLATE "C"), as SQLite and the registry sort them, whatever the database's locale.
const SELECT_JOBS = `SELECT j.*, COALESCE((SELECT jsonb_agg(r.result ORDER BY r.hostname COLLATE "C") FROM job_results r WHERE r.job_id = j.id), '[]') AS results FROM jobs j`;

const INSERT_JOB = `INSERT INTO jobs (id, router, subject, target, container_id, command, env_keys, hosts, status, idempotency_key, request_hash, created_at, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'running', $9, $10, $11, $11)`;

/**
 * Jobs in PostgreSQL, shared by the routers of a mesh. Every write is one statement (one round
 * trip), except the claim of an idempotency key, which is one transaction.
 */
export class PostgresJobStore implements JobStore {
  constructor(private readonly db: PostgresDatabase) {}

  async create(job: NewJob): Promise<void> {
    await insertJob(this.db.query, job);
  }

  async addResults(jobId: string, results: HostResult[]): Promise<void> {
    // One statement for the batch; a host twice in it keeps its later result (ON CONFLICT may touch a row once per statement).
    const byHost = new Map(results.map((result) => [result.hostname, JSON.stringify(result)]));
    await this.db.query(
      `WITH stored AS (
         INSERT INTO job_results (job_id, hostname, result) SELECT $1, hostname, result FROM unnest($2::text[], $3::jsonb[]) AS r (hostname, result)
         ON CONFLICT (job_id, hostname) DO UPDATE SET result = excluded.result
       )
       UPDATE jobs SET updated_at = $4 WHERE id = $1`,
      [jobId, [...byHost.keys()], [...byHost.values()], new Date()],
    );
  }

  async finish(jobId: string, status: JobStatus, error = ""): Promise<void> {
    const now = new Date();
    await this.db.query(`UPDATE jobs SET status = $2, error = $3, updated_at = $4, finished_at = $4 WHERE id = $1`, [jobId, status, error, now]);
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const { rows } = await this.db.query(`${SELECT_JOBS} WHERE j.id = $1`, [id]);
    return rows[0] && recordOf(rows[0] as JobRow);
  }

  async list(query: JobQuery): Promise<Page<JobRecord>> {
    const conditions: string[] = [];
    const params: unknown[] = [];
    const where = (column: string, operator: string, param: unknown) => (params.push(param), conditions.push(`j.${column} ${operator} $${params.length}`));
    if (query.cursor) where("seq", "<", decodeCursor(query.cursor));
    if (query.subject) where("subject", "=", query.subject);
    if (query.target) where("target", "=", query.target);
    if (query.status) where("status", "=", query.status);
    params.push(query.limit + 1);
    const sql = `${SELECT_JOBS} ${conditions.length ? `WHERE ${conditions.join(" AND ")}` : ""} ORDER BY j.seq DESC LIMIT $${params.length}`;
    const { rows } = await this.db.query(sql, params);
    return pageOf(
      (rows as JobRow[]).map((row) => ({ ...row, seq: Number(row.seq) })),
      query.limit,
      recordOf,
    );
  }

  claimIdempotencyKey(job: KeyedJob, notBefore: Date): Promise<IdempotencyClaim> {
    // Two routers claiming one key at once: the second INSERT waits for the first's commit, then
    // finds the key held (its WHERE is false), updates nothing, and reads the first's claim.
    return this.db.transaction(async (query) => {
      const claimed = await query(
        `INSERT INTO idempotency_keys (subject, key, request_hash, job_id, claimed_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (subject, key) DO UPDATE SET request_hash = excluded.request_hash, job_id = excluded.job_id, claimed_at = excluded.claimed_at
         WHERE idempotency_keys.claimed_at < $6`,
        [job.subject, job.idempotencyKey, job.requestHash, job.id, job.createdAt, notBefore],
      );
      if (claimed.rowCount === 1) {
        await insertJob(query, job);
        return { owner: true as const };
      }
      const { rows } = await query(`SELECT job_id, request_hash FROM idempotency_keys WHERE subject = $1 AND key = $2`, [job.subject, job.idempotencyKey]);
      return { owner: false as const, jobId: rows[0].job_id as string, requestHash: rows[0].request_hash as string };
    });
  }

  async failRunningOf(router: string, error: string): Promise<number> {
    const now = new Date();
    const { rowCount } = await this.db.query(
      `UPDATE jobs SET status = 'failed', error = $2, updated_at = $3, finished_at = $3 WHERE status = 'running' AND router = $1`,
      [router, error, now],
    );
    return rowCount ?? 0;
  }

  async pruneBefore(cutoff: Date): Promise<number> {
    await this.db.query(`DELETE FROM idempotency_keys WHERE claimed_at < $1`, [new Date(Date.now() - IDEMPOTENCY_WINDOW_MS)]);
    const { rowCount } = await this.db.query(`DELETE FROM jobs WHERE created_at < $1 AND status <> 'running'`, [cutoff]);
    return rowCount ?? 0;
  }
}

function insertJob(query: Query, job: NewJob) {
  return query(INSERT_JOB, [
    job.id,
    job.router,
    job.subject,
    job.target,
    job.containerId,
    JSON.stringify(job.command),
    JSON.stringify(job.envKeys),
    JSON.stringify(job.hosts),
    job.idempotencyKey ?? null,
    job.requestHash ?? null,
    job.createdAt,
  ]);
}

function recordOf(row: JobRow | (Omit<JobRow, "seq"> & { seq: number })): JobRecord {
  return {
    id: row.id,
    router: row.router,
    subject: row.subject,
    target: row.target,
    containerId: row.container_id,
    command: row.command,
    envKeys: row.env_keys,
    hosts: row.hosts,
    status: row.status,
    error: row.error,
    idempotencyKey: row.idempotency_key ?? undefined,
    requestHash: row.request_hash ?? undefined,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at ?? undefined,
    results: row.results,
  };
}
