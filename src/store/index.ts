import { openDatabase } from "./sqlite-database.js";
import { SqliteAuditLog } from "./sqlite-audit-log.js";
import { SqliteJobStore } from "./sqlite-job-store.js";
import { SqliteTokenRevocations } from "./sqlite-token-revocations.js";
import { WriteBatch } from "./write-batch.js";
import { SqliteAgentRevocations, type AgentRevocations } from "./agent-revocations.js";
import type { AuditLog } from "./audit-log.js";
import type { JobStore } from "./job-store.js";
import type { TokenRevocations } from "./token-revocations.js";

export type { AuditEntry, AuditLog, NewAuditEntry } from "./audit-log.js";
export { jobStatusOf, type JobQuery, type JobRecord, type JobStatus, type JobStore, type NewJob, type Page } from "./job-store.js";
export { MemoryAuditLog, MemoryJobStore } from "./memory-store.js";
export { MemoryAgentRevocations, type AgentRevocations } from "./agent-revocations.js";
export { MemoryTokenRevocations, type TokenRevocations } from "./token-revocations.js";

export interface Stores {
  jobs: JobStore;
  audit: AuditLog;
  agentRevocations: AgentRevocations;
  tokenRevocations: TokenRevocations;
  close(): void;
}

/** The embedded default: jobs and audit in one SQLite file under dataDir. */
export function openSqliteStores(dataDir: string): Stores {
  const db = openDatabase(dataDir);
  const writes = new WriteBatch(db);
  return {
    jobs: new SqliteJobStore(db, writes),
    audit: new SqliteAuditLog(db, writes),
    agentRevocations: new SqliteAgentRevocations(db),
    tokenRevocations: new SqliteTokenRevocations(db),
    close: () => {
      writes.flush();
      db.close();
    },
  };
}
