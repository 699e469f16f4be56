import { openDatabase } from "./sqlite-database.js";
import { SqliteAuditLog } from "./sqlite-audit-log.js";
import { SqliteJobStore } from "./sqlite-job-store.js";
import { SqliteTokenRevocations } from "./sqlite-token-revocations.js";
import { WriteBatch } from "./write-batch.js";
import { SqliteAgentRevocations, type AgentRevocations } from "./agent-revocations.js";
import type { AuditLog } from "./audit-log.js";
import type { JobStore } from "./job-store.js";
import type { TokenRevocations } from "./token-revocations.js";

export { AUDIT_PRUNE_FLOOR_MS, AUDIT_PRUNE_REFUSED, type AuditEntry, type AuditLog, type NewAuditEntry } from "./audit-log.js";
export {
  IDEMPOTENCY_WINDOW_MS,
  jobStatusOf,
  type IdempotencyClaim,
  type JobQuery,
  type JobRecord,
  type JobStatus,
  type JobStore,
  type KeyedJob,
  type NewJob,
  type Page,
} from "./job-store.js";
export { MemoryAuditLog, MemoryJobStore } from "./memory-store.js";
export { MemoryAgentRevocations, type AgentRevocations } from "./agent-revocations.js";
export { MemoryTokenRevocations, type TokenRevocations } from "./token-revocations.js";

export interface Stores {
  jobs: JobStore;
  audit: AuditLog;
  agentRevocations: AgentRevocations;
  tokenRevocations: TokenRevocations;
  /** True when several routers share these stores (PostgreSQL); SQLite is one router's. */
  shared: boolean;
  close(): Promise<void>;
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
    shared: false,
    close: async () => {
      writes.flush();
      db.close();
    },
  };
}
