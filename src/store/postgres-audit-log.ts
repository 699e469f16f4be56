import type { AuditEntry, AuditLog, NewAuditEntry } from "./audit-log.js";
import type { Page } from "./job-store.js";
import { decodeCursor, pageOf } from "./paging.js";
import type { PostgresDatabase } from "./postgres-database.js";

const COLUMNS = `seq, time, subject, source_address AS "sourceAddress", target, container_id AS "containerId", command,
  grpc_code AS "grpcCode", http_status AS "httpStatus", job_id AS "jobId", request_id AS "requestId", error`;

type AuditRow = NewAuditEntry & { seq: string };

/** The audit table's triggers refuse UPDATE, TRUNCATE, and DELETE of entries younger than AUDIT_PRUNE_FLOOR_MS: append-only holds below this code too. */
export class PostgresAuditLog implements AuditLog {
  constructor(private readonly db: PostgresDatabase) {}

  async append(entry: NewAuditEntry): Promise<void> {
    await this.db.query(
      `INSERT INTO audit (time, subject, source_address, target, container_id, command, grpc_code, http_status, job_id, request_id, error)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        entry.time,
        entry.subject,
        entry.sourceAddress,
        entry.target,
        entry.containerId,
        JSON.stringify(entry.command),
        entry.grpcCode,
        entry.httpStatus,
        entry.jobId,
        entry.requestId,
        entry.error,
      ],
    );
  }

  async pruneBefore(cutoff: Date): Promise<number> {
    const { rowCount } = await this.db.query(`DELETE FROM audit WHERE time < $1`, [cutoff]);
    return rowCount ?? 0;
  }

  async list(query: { limit: number; cursor?: string }): Promise<Page<AuditEntry>> {
    const { rows } = query.cursor
      ? await this.db.query(`SELECT ${COLUMNS} FROM audit WHERE seq < $1 ORDER BY seq DESC LIMIT $2`, [decodeCursor(query.cursor), query.limit + 1])
      : await this.db.query(`SELECT ${COLUMNS} FROM audit ORDER BY seq DESC LIMIT $1`, [query.limit + 1]);
    return pageOf(
      (rows as AuditRow[]).map((row) => ({ ...row, seq: Number(row.seq) })),
      query.limit,
      ({ seq, ...rest }) => ({ ...rest, id: String(seq) }),
    );
  }
}
