import type { PostgresDatabase } from "./postgres-database.js";
import type { AdmissionDecision, AdmissionLimits, SharedAdmissions } from "./subject-admissions.js";

/** The subject's bucket refilled up to now, by the database's clock (one clock for every router), given the parameters holding the burst and the rate. */
const refilled = (burst: string, rate: string) =>
  `LEAST(${burst}::float8, r.tokens + GREATEST(0, EXTRACT(EPOCH FROM now() - r.refilled_at)::float8) * ${rate}::float8)`;
const REFILLED = refilled("$2", "$3");
const RATE_ALLOWS = `($3::float8 = 0 OR ${REFILLED} >= 1)`;
const RUNNING_ALLOWS = `($4::int = 0 OR r.running < $4::int)`;
const ADMITS = `(${RATE_ALLOWS} AND ${RUNNING_ALLOWS})`;

/**
 * One statement per exec: the subject's row is upserted (and so locked, serializing that subject's
 * admissions across the mesh), refilled, and a token and a running slot taken only when both limits
 * allow; the slot row naming the router is inserted in the same statement. A subject never seen
 * starts with a full bucket, as in memory. `admitted` records this statement's decision on the row,
 * since RETURNING sees only the new row.
 */
const ADMIT = `
WITH decision AS (
  INSERT INTO subject_rate AS r (subject, tokens, refilled_at, running, admitted)
  VALUES ($1, $2::float8 - CASE WHEN $3::float8 > 0 THEN 1 ELSE 0 END, now(), 1, true)
  ON CONFLICT (subject) DO UPDATE SET
    tokens = ${REFILLED} - CASE WHEN $3::float8 > 0 AND ${ADMITS} THEN 1 ELSE 0 END,
    running = r.running + CASE WHEN ${ADMITS} THEN 1 ELSE 0 END,
    admitted = ${ADMITS},
    refilled_at = GREATEST(r.refilled_at, now())
  RETURNING tokens, running, admitted
), slot AS (
  INSERT INTO subject_slots (id, subject, router, started_at) SELECT $5, $1, $6, now() FROM decision WHERE admitted
)
SELECT tokens, running, admitted FROM decision`;

/** Per-subject limits in PostgreSQL: the subject_rate and subject_slots tables of migration 2. */
export class PostgresSubjectAdmissions implements SharedAdmissions {
  constructor(private readonly db: PostgresDatabase) {}

  async admit(subject: string, slotId: string, router: string, limits: AdmissionLimits): Promise<AdmissionDecision> {
    const { rows } = await this.db.query(ADMIT, [subject, limits.burst, limits.ratePerSecond, limits.maxConcurrent, slotId, router]);
    const { tokens, running, admitted } = rows[0] as { tokens: number; running: number; admitted: boolean };
    if (admitted) return { admitted: true };
    if (limits.maxConcurrent > 0 && running >= limits.maxConcurrent) return { admitted: false, reason: "too many running", running };
    return { admitted: false, reason: "rate limited", retryAfterSeconds: Math.ceil((1 - tokens) / limits.ratePerSecond) };
  }

  async release(slotIds: readonly string[]): Promise<void> {
    await this.db.query(
      `WITH gone AS (DELETE FROM subject_slots WHERE id = ANY($1::uuid[]) RETURNING subject)
       UPDATE subject_rate SET running = running - freed.n
       FROM (SELECT subject, count(*)::int AS n FROM gone GROUP BY subject) AS freed WHERE subject_rate.subject = freed.subject`,
      [slotIds],
    );
  }

  async releaseAllOf(router: string): Promise<number> {
    const { rows } = await this.db.query(
      `WITH gone AS (DELETE FROM subject_slots WHERE router = $1 RETURNING subject),
       freed AS (SELECT subject, count(*)::int AS n FROM gone GROUP BY subject),
       updated AS (UPDATE subject_rate SET running = running - freed.n FROM freed WHERE subject_rate.subject = freed.subject)
       SELECT coalesce(sum(n), 0)::int AS released FROM freed`,
      [router],
    );
    return rows[0].released as number;
  }

  async forgetIdle(limits: AdmissionLimits): Promise<number> {
    const { rowCount } = await this.db.query(
      `DELETE FROM subject_rate AS r WHERE r.running = 0 AND ($2::float8 = 0 OR ${refilled("$1", "$2")} >= $1::float8)`,
      [limits.burst, limits.ratePerSecond],
    );
    return rowCount ?? 0;
  }
}
