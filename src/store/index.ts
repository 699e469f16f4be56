import { openDatabase } from "./sqlite-database.js";
import { SqliteAuditLog } from "./sqlite-audit-log.js";
import { SqliteJobStore } from "./sqlite-job-store.js";
import { SqliteTokenRevocations } from "./sqlite-token-revocations.js";
import { WriteBatch } from "./write-batch.js";
import { SqliteAgentRevocations, type AgentRevocations } from "./agent-revocations.js";
import type { AuditLog } from "./audit-log.js";
import type { JobStore } from "./job-store.js";
import type { TokenRevocations } from "./token-revocations.js";
import { PostgresAuditLog } from "./postgres-audit-log.js";
import { PostgresDatabase, type PostgresOptions } from "./postgres-database.js";
import { PostgresJobStore } from "./postgres-job-store.js";
import { PostgresAgentRevocations, PostgresTokenRevocations } from "./postgres-revocations.js";
import { PostgresSubjectAdmissions } from "./postgres-subject-admissions.js";
import type { SharedAdmissions } from "./subject-admissions.js";

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
export type { AdmissionDecision, AdmissionLimits, SharedAdmissions } from "./subject-admissions.js";
export { redactDatabaseUrl, type PostgresOptions } from "./postgres-database.js";

export interface Stores {
  jobs: JobStore;
  audit: AuditLog;
  agentRevocations: AgentRevocations;
  tokenRevocations: TokenRevocations;
  /**
   * Per-subject limits every router of the mesh shares; only with PostgreSQL. A lone router (SQLite)
   * keeps them in memory, where they cost nothing (src/router/subject-limits.ts).
   */
  sharedAdmissions?: SharedAdmissions;
  /** True when several routers share these stores (PostgreSQL); SQLite is one router's. */
  shared: boolean;
  /** Where they are, for the log: a file, or the database URL without its password. */
  where: string;
  close(): Promise<void>;
}

export interface StoreConfig {
  /** --data-dir: the SQLite file's directory, when there is no database URL. */
  dataDir: string;
  /** --database-url and --database-ca: PostgreSQL, shared by the routers of a mesh. */
  database?: PostgresOptions;
}

/** The one place that decides where a router keeps its jobs, audit log and revocations. */
export function openStores(config: StoreConfig): Promise<Stores> {
  return config.database ? openPostgresStores(config.database) : Promise.resolve(openSqliteStores(config.dataDir));
}

/**
 * PostgreSQL, its schema brought up to date first (under an advisory lock, so routers starting at
 * once do not race). Refuses, UNAVAILABLE and naming the database without its password, when it
 * cannot be reached.
 */
export async function openPostgresStores(options: PostgresOptions): Promise<Stores> {
  const db = new PostgresDatabase(options);
  try {
    await db.migrate();
  } catch (err) {
    await db.close().catch(() => {});
    throw db.describeAtStart(err);
  }
  return {
    jobs: new PostgresJobStore(db),
    audit: new PostgresAuditLog(db),
    agentRevocations: new PostgresAgentRevocations(db),
    tokenRevocations: new PostgresTokenRevocations(db),
    sharedAdmissions: new PostgresSubjectAdmissions(db),
    shared: true,
    where: db.where,
    close: () => db.close(),
  };
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
    where: db.name,
    close: async () => {
      writes.flush();
      db.close();
    },
  };
}
