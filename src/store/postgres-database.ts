import { readFileSync } from "node:fs";
import pg from "pg";
import { GrpcStatus, MeshError } from "../errors/index.js";
import { POSTGRES_MIGRATIONS } from "./postgres-migrations.js";

export interface PostgresOptions {
  /** postgres://user:password@host:port/database; its password never appears in a message. */
  url: string;
  /** PEM file of the CA that signed the server's certificate: TLS is then required and verified. */
  caFile?: string;
  /** Told of an idle connection that broke (the database restarted); the next query opens a new one. */
  onIdleError?: (err: MeshError) => void;
}

/**
 * Connections at once per router. A router's writes are a few small statements per exec, so a
 * handful of connections keep up with thousands of execs a second; ten leave room for slow reads.
 */
const POOL_SIZE = 10;
/** A database that does not answer a connect within this is unavailable, and the caller is told so. */
const CONNECT_TIMEOUT_MS = 5_000;
/** No statement meshexec sends takes long; one that does is a database in trouble. */
const QUERY_TIMEOUT_MS = 15_000;
/** Any constant works: the routers of a mesh only need to agree on it. "meshexec schema" in ASCII, cut to 63 bits. */
const MIGRATION_LOCK_KEY = "7882203917017286509";

/** A statement on one connection; rows are untyped, each store reads its own columns. */
export type Query = (sql: string, params?: unknown[]) => Promise<pg.QueryResult>;

/** One PostgreSQL database shared by the routers of a mesh: a pool, and errors that say what went wrong without the URL's password. */
export class PostgresDatabase {
  private readonly pool: pg.Pool;
  private readonly secrets: string[];

  constructor(private readonly options: PostgresOptions) {
    this.secrets = secretsOf(options.url);
    this.pool = new pg.Pool({
      connectionString: options.url,
      ssl: options.caFile ? { ca: readFileSync(options.caFile, "utf8"), rejectUnauthorized: true } : undefined,
      max: POOL_SIZE,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
      application_name: "meshexec",
    });
    // Without a listener, a connection the server closed while idle would crash the process.
    this.pool.on("error", (err) => options.onIdleError?.(this.describe(err)));
  }

  /** Where the database is, for messages: the URL with its password (and any password parameter) replaced. */
  get where(): string {
    return redactDatabaseUrl(this.options.url);
  }

  readonly query: Query = async (sql, params = []) => {
    try {
      return await this.pool.query(sql, params);
    } catch (err) {
      throw this.describe(err);
    }
  };

  /** Runs `work` in one transaction on one connection; rolls back when it throws. */
  async transaction<T>(work: (query: Query) => Promise<T>): Promise<T> {
    const { query, client } = await this.connect();
    let broken: unknown;
    try {
      await query("BEGIN");
      const result = await work(query);
      await query("COMMIT");
      return result;
    } catch (err) {
      broken = err;
      await client.query("ROLLBACK").catch((rollbackErr: unknown) => (broken = rollbackErr));
      throw err;
    } finally {
      // A connection that broke is in an unknown state: it is closed, not reused.
      client.release(isConnectionProblem(broken) ? (broken as Error) : undefined);
    }
  }

  /** One connection of the pool, its errors described as query()'s are. */
  private async connect(): Promise<{ query: Query; client: pg.PoolClient }> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw this.describe(err);
    }
    const query: Query = async (sql, params = []) => {
      try {
        return await client.query(sql, params);
      } catch (err) {
        throw this.describe(err);
      }
    };
    return { query, client };
  }

  /**
   * Brings the schema to this build's version. Every router runs this at startup, under one
   * advisory lock, so routers started at once apply each migration exactly once, in order.
   */
  async migrate(): Promise<{ applied: number[] }> {
    const { query, client } = await this.connect();
    try {
      await query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
      await query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const done = new Set((await query("SELECT version FROM schema_migrations")).rows.map((row) => row.version as number));
      const known = POSTGRES_MIGRATIONS.map((m) => m.version);
      const newer = [...done].filter((version) => !known.includes(version));
      if (newer.length > 0) {
        throw new MeshError(
          GrpcStatus.FAILED_PRECONDITION,
          "database schema too new",
          `${this.where} has schema migrations ${newer.join(", ")}, which this meshexec does not know (it knows up to ${Math.max(...known)}): run the newer meshexec`,
        );
      }
      const applied: number[] = [];
      for (const migration of POSTGRES_MIGRATIONS.filter((m) => !done.has(m.version))) {
        await query("BEGIN");
        try {
          await query(migration.sql);
          await query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [migration.version, migration.name]);
          await query("COMMIT");
        } catch (err) {
          await client.query("ROLLBACK").catch(() => {});
          throw err;
        }
        applied.push(migration.version);
      }
      return { applied };
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => {});
      client.release();
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  /**
   * A connection problem becomes UNAVAILABLE "database unavailable: …" (callers retry it, or
   * answer 503); anything else keeps its own message. Either way, the URL's password is cut out.
   */
  describe(err: unknown): MeshError {
    if (err instanceof MeshError) return err;
    const message = this.redact(err instanceof Error ? err.message || String((err as { code?: string }).code ?? err.name) : String(err));
    // The details reach callers (and a job's error), so they name no address; the cause reaches the
    // logs, which print its message too (pino's error serializer), so it is a redacted copy.
    const cause = this.redactedCopy(err);
    if (isConnectionProblem(err)) return new MeshError(GrpcStatus.UNAVAILABLE, "database unavailable", message, { cause });
    return new MeshError(GrpcStatus.INTERNAL, "database error", message, { cause });
  }

  /** The same failure naming this database (without its password): for the router's own start-up message. */
  describeAtStart(err: unknown): MeshError {
    const described = this.describe(err);
    if (described.details.includes(this.where)) return described;
    return new MeshError(described.code, described.error, `${described.details} (${this.where})`, { cause: described.cause });
  }

  private redactedCopy(err: unknown): Error {
    const original = err instanceof Error ? err : new Error(String(err));
    const copy = Object.assign(new Error(this.redact(original.message)), { code: (original as { code?: unknown }).code });
    copy.stack = this.redact(original.stack ?? copy.stack ?? "");
    return copy;
  }

  private redact(text: string): string {
    return this.secrets.reduce((out, secret) => out.split(secret).join("***"), text);
  }
}

/**
 * The database cannot be reached, or dropped the connection: a refused or failed connect (Node's
 * E… codes), SQLSTATE class 08 (connection exception), 57P01–57P03 (shutting down, starting up),
 * 53300 (too many connections), and node-postgres's own words for a connection that ended or a
 * pool that could not connect in time.
 */
export function isConnectionProblem(err: unknown): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === "string" && (/^E[A-Z]+$/.test(code) || /^08/.test(code) || /^57P0[123]$/.test(code) || code === "53300")) return true;
  return (
    typeof message === "string" &&
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended|not queryable/i.test(message)
  );
}

/** The URL as it may be shown: its password, and any password= parameter, replaced by ***. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    if (parsed.searchParams.has("password")) parsed.searchParams.set("password", "***");
    return parsed.toString().replace(/%2A%2A%2A/g, "***");
  } catch {
    return "(the --database-url, which is not a valid URL)";
  }
}

/** The URL's password, as written and decoded, so it can be cut out of any message that repeats it. */
function secretsOf(url: string): string[] {
  try {
    const parsed = new URL(url);
    const passwords = [parsed.password, parsed.searchParams.get("password") ?? ""].filter((p) => p.length > 0);
    return [...new Set(passwords.flatMap((p) => [p, safeDecode(p)]))].sort((a, b) => b.length - a.length);
  } catch {
    return [url];
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
