import { AUDIT_PRUNE_FLOOR_MS, AUDIT_PRUNE_REFUSED } from "./audit-log.js";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The PostgreSQL schema, as versioned migrations in code (so the build that needs a schema carries
 * it). Each runs once, in order, in its own transaction, recorded in schema_migrations; a released
 * migration is never edited: a change is a new one appended here.
 *
 * Times are timestamptz, lists jsonb. Row order for paging is an identity column (seq), as SQLite's.
 */
export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "jobs, idempotency keys, audit, revocations",
    sql: `
CREATE TABLE jobs (
  seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id              text NOT NULL UNIQUE,
  router          text NOT NULL,
  subject         text NOT NULL,
  target          text NOT NULL,
  container_id    text NOT NULL,
  command         jsonb NOT NULL,
  env_keys        jsonb NOT NULL,
  hosts           jsonb NOT NULL,
  status          text NOT NULL,
  error           text NOT NULL DEFAULT '',
  idempotency_key text,
  request_hash    text,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  finished_at     timestamptz
);
CREATE INDEX jobs_by_status ON jobs (status);
CREATE INDEX jobs_running_by_router ON jobs (router) WHERE status = 'running';
CREATE INDEX jobs_by_subject ON jobs (subject, seq);

CREATE TABLE job_results (
  job_id   text NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  hostname text NOT NULL,
  result   jsonb NOT NULL,
  PRIMARY KEY (job_id, hostname)
);

-- Who runs a keyed request: the first router to claim (subject, key) in the window, with its job.
CREATE TABLE idempotency_keys (
  subject      text NOT NULL,
  key          text NOT NULL,
  request_hash text NOT NULL,
  job_id       text NOT NULL,
  claimed_at   timestamptz NOT NULL,
  PRIMARY KEY (subject, key)
);
CREATE INDEX idempotency_keys_by_time ON idempotency_keys (claimed_at);

CREATE TABLE audit (
  seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  time           timestamptz NOT NULL,
  subject        text NOT NULL,
  source_address text NOT NULL,
  target         text NOT NULL,
  container_id   text NOT NULL,
  command        jsonb NOT NULL,
  grpc_code      text NOT NULL,
  http_status    integer NOT NULL,
  job_id         text NOT NULL,
  request_id     text NOT NULL,
  error          text NOT NULL
);
CREATE INDEX audit_by_time ON audit (time);

-- Append-only in the database itself, as in SQLite: no row is ever changed (nor the table
-- truncated), and the only rows that may be deleted are those past the floor (pruning past
-- --audit-ttl), by the database's own clock. (The floor is AUDIT_PRUNE_FLOOR_MS as of this
-- migration; changing that constant needs a new migration that replaces the function.)
CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit log is append-only';
END $$;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE FUNCTION audit_delete_only_expired() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.time > now() - interval '${AUDIT_PRUNE_FLOOR_MS} milliseconds' THEN
    RAISE EXCEPTION '${AUDIT_PRUNE_REFUSED}';
  END IF;
  RETURN OLD;
END $$;
CREATE TRIGGER audit_delete_only_expired BEFORE DELETE ON audit FOR EACH ROW EXECUTE FUNCTION audit_delete_only_expired();

CREATE TABLE token_revocations (
  jti        text PRIMARY KEY,
  revoked_at timestamptz NOT NULL
);
CREATE INDEX token_revocations_by_time ON token_revocations (revoked_at);

CREATE TABLE agent_revocations (
  hostname   text PRIMARY KEY,
  revoked_at timestamptz NOT NULL
);
`,
  },
  {
    version: 2,
    name: "per-subject limits shared by the routers",
    sql: `
-- One row per subject seen lately: its token bucket (tokens as of refilled_at, by the database's
-- clock) and how many of its execs run now, across every router. admitted is the last admission's
-- decision, for the statement that made it to return. Rows of idle subjects are deleted.
CREATE TABLE subject_rate (
  subject     text PRIMARY KEY,
  tokens      double precision NOT NULL,
  refilled_at timestamptz NOT NULL,
  running     integer NOT NULL CHECK (running >= 0),
  admitted    boolean NOT NULL
);

-- One row per exec running: which router holds it, so a router that restarted or was lost gives its slots back.
CREATE TABLE subject_slots (
  id         uuid PRIMARY KEY,
  subject    text NOT NULL,
  router     text NOT NULL,
  started_at timestamptz NOT NULL
);
CREATE INDEX subject_slots_by_router ON subject_slots (router);
`,
  },
];
