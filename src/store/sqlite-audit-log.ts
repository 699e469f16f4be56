import type Database from "better-sqlite3";
import type { AuditEntry, AuditLog, NewAuditEntry } from "./audit-log.js";
import type { Page } from "./job-store.js";
import { decodeCursor, pageOf } from "./paging.js";
import type { WriteBatch } from "./write-batch.js";

const COLUMNS = `seq, time, subject, source_address AS sourceAddress, target, container_id AS containerId, command,
  grpc_code AS grpcCode, http_status AS httpStatus, job_id AS jobId, request_id AS requestId, error`;

type AuditRow = Omit<NewAuditEntry, "time" | "command"> & { seq: number; time: number; command: string };

/** The audit table has triggers that refuse UPDATE, and DELETE of entries younger than AUDIT_PRUNE_FLOOR_MS, so append-only holds below this code too. */
export class SqliteAuditLog implements AuditLog {
  private readonly statements;

  constructor(
    db: Database.Database,
    private readonly writes: WriteBatch,
  ) {
    this.statements = {
      insert: db.prepare(
        `INSERT INTO audit (time, subject, source_address, target, container_id, command, grpc_code, http_status, job_id, request_id, error)
         VALUES (@time, @subject, @sourceAddress, @target, @containerId, @command, @grpcCode, @httpStatus, @jobId, @requestId, @error)`,
      ),
      newest: db.prepare(`SELECT ${COLUMNS} FROM audit ORDER BY seq DESC LIMIT ?`),
      below: db.prepare(`SELECT ${COLUMNS} FROM audit WHERE seq < ? ORDER BY seq DESC LIMIT ?`),
      prune: db.prepare(`DELETE FROM audit WHERE time < ?`),
    };
  }

  async append(entry: NewAuditEntry): Promise<void> {
    const row = { ...entry, time: entry.time.getTime(), command: JSON.stringify(entry.command) };
    this.writes.add(() => this.statements.insert.run(row));
  }

  async pruneBefore(cutoff: Date): Promise<number> {
    this.writes.flush();
    return this.statements.prune.run(cutoff.getTime()).changes;
  }

  async list(query: { limit: number; cursor?: string }): Promise<Page<AuditEntry>> {
    this.writes.flush();
    const rows = (
      query.cursor ? this.statements.below.all(decodeCursor(query.cursor), query.limit + 1) : this.statements.newest.all(query.limit + 1)
    ) as AuditRow[];
    return pageOf(rows, query.limit, ({ seq, time, command, ...rest }) => ({ ...rest, id: String(seq), time: new Date(time), command: JSON.parse(command) }));
  }
}
