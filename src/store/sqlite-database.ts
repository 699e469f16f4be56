import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { AUDIT_PRUNE_FLOOR_MS, AUDIT_PRUNE_REFUSED } from "./audit-log.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  seq             INTEGER PRIMARY KEY AUTOINCREMENT,
  id              TEXT NOT NULL UNIQUE,
  router          TEXT NOT NULL DEFAULT '',
  subject         TEXT NOT NULL,
  target          TEXT NOT NULL,
  container_id    TEXT NOT NULL,
  command         TEXT NOT NULL,
  env_keys        TEXT NOT NULL,
  hosts           TEXT NOT NULL,
  status          TEXT NOT NULL,
  error           TEXT NOT NULL DEFAULT '',
  idempotency_key TEXT,
  request_hash    TEXT,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  finished_at     INTEGER
);
DROP INDEX IF EXISTS jobs_by_key;
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status);
CREATE INDEX IF NOT EXISTS jobs_running_by_router ON jobs (router) WHERE status = 'running';
CREATE INDEX IF NOT EXISTS jobs_by_subject ON jobs (subject, seq);
CREATE TABLE IF NOT EXISTS job_results (
  job_id   TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  hostname TEXT NOT NULL,
  result   TEXT NOT NULL,
  PRIMARY KEY (job_id, hostname)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idempotency_keys (
  subject      TEXT NOT NULL,
  key          TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  job_id       TEXT NOT NULL,
  claimed_at   INTEGER NOT NULL,
  PRIMARY KEY (subject, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idempotency_keys_by_time ON idempotency_keys (claimed_at);
CREATE TABLE IF NOT EXISTS audit (
  seq            INTEGER PRIMARY KEY AUTOINCREMENT,
  time           INTEGER NOT NULL,
  subject        TEXT NOT NULL,
  source_address TEXT NOT NULL,
  target         TEXT NOT NULL,
  container_id   TEXT NOT NULL,
  command        TEXT NOT NULL,
  grpc_code      TEXT NOT NULL,
  http_status    INTEGER NOT NULL,
  job_id         TEXT NOT NULL,
  request_id     TEXT NOT NULL,
  error          TEXT NOT NULL
);
-- Append-only in the database itself: no row is ever changed, and the only rows that may be
-- deleted are those past the floor (pruning past --audit-ttl), by the clock of SQLite itself.
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
DROP TRIGGER IF EXISTS audit_no_delete;
CREATE INDEX IF NOT EXISTS audit_by_time ON audit (time);
CREATE TRIGGER IF NOT EXISTS audit_delete_only_expired BEFORE DELETE ON audit
  WHEN OLD.time > CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) - ${AUDIT_PRUNE_FLOOR_MS}
  BEGIN SELECT RAISE(ABORT, '${AUDIT_PRUNE_REFUSED}'); END;
CREATE TABLE IF NOT EXISTS token_revocations (
  jti        TEXT PRIMARY KEY,
  revoked_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS token_revocations_by_time ON token_revocations (revoked_at);
CREATE TABLE IF NOT EXISTS agent_revocations (
  hostname   TEXT PRIMARY KEY,
  revoked_at INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** Opens (and creates, the first time) the one SQLite file under the data directory. WAL: reads never block writes. */
export function openDatabase(dataDir: string): Database.Database {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, "meshexec.sqlite"));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  // SQLite's own default page cache (2 MiB) instead of the 16 MiB better-sqlite3 builds in: every
  // fan-out writes a row per host, so a busy router's cache fills to its limit, and the OS page
  // cache keeps the file's hot pages anyway. Measured: 16 MiB of the router's RSS at 1,000 agents.
  db.pragma("cache_size = -2000");
  addColumnIfMissing(db, "jobs", "router", "TEXT NOT NULL DEFAULT ''");
  db.exec(SCHEMA);
  return db;
}

/** A file written by an older meshexec has the table without the column; CREATE TABLE IF NOT EXISTS would not add it. */
function addColumnIfMissing(db: Database.Database, table: string, column: string, definition: string): void {
  const columns = db.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(table) as string[];
  if (columns.length > 0 && !columns.includes(column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
}
