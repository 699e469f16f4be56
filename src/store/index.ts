import { openDatabase } from "./sqlite-database.js";
import { SqliteAuditLog } from "./sqlite-audit-log.js";
import { SqliteJobStore } from "./sqlite-job-store.js";
import type { AuditLog } from "./audit-log.js";
import type { JobStore } from "./job-store.js";

export type { AuditEntry, AuditLog, NewAuditEntry } from "./audit-log.js";
export { jobStatusOf, type JobQuery, type JobRecord, type JobStatus, type JobStore, type NewJob, type Page } from "./job-store.js";
export { MemoryAuditLog, MemoryJobStore } from "./memory-store.js";

export interface Stores {
  jobs: JobStore;
  audit: AuditLog;
  close(): void;
}

/** The embedded default: jobs and audit in one SQLite file under dataDir. */
export function openSqliteStores(dataDir: string): Stores {
  const db = openDatabase(dataDir);
  return { jobs: new SqliteJobStore(db), audit: new SqliteAuditLog(db), close: () => db.close() };
}
