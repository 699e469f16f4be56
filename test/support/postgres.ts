import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./free-port.js";
import { accepts } from "./nginx-grpc-proxy.js";
import { waitFor } from "./wait-for.js";

const run = promisify(execFile);
const BIN = "/usr/lib/postgresql/15/bin";
/** Servers still running, stopped at once if the test process exits without stopping them. */
const running = new Set<TestPostgres>();
process.once("exit", () => running.forEach((server) => server.stopNow()));

/**
 * Debian's PostgreSQL 15 for a spec: a cluster of its own in a temp dir the postgres user owns
 * (root may not run it), on a free port, socket in that dir, fsync off (nothing here must survive
 * a crash of the machine). The role meshexec logs in over TCP with a password, as a router would.
 */
export class TestPostgres {
  readonly password = randomBytes(12).toString("hex");
  private readonly socketDir: string;

  private readonly owner = { uid: Number(execFileSync("id", ["-u", "postgres"]).toString()), gid: Number(execFileSync("id", ["-g", "postgres"]).toString()) };

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {
    this.socketDir = dir;
    chownSync(dir, this.owner.uid, this.owner.gid);
  }

  static async start(): Promise<TestPostgres> {
    const server = new TestPostgres(await freePort(), mkdtempSync(join(tmpdir(), "meshexec-pg-")));
    await server.asPostgres("initdb", ["-D", server.dataDir, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "-E", "UTF8"]);
    await server.start();
    await server.psql(`CREATE ROLE meshexec LOGIN CREATEDB PASSWORD '${server.password}'`);
    return server;
  }

  private get dataDir(): string {
    return join(this.dir, "data");
  }

  /** A new, empty database owned by meshexec, and the URL a router reaches it with. */
  async createDatabase(name = `db_${randomBytes(4).toString("hex")}`): Promise<string> {
    await this.psql(`CREATE DATABASE ${name} OWNER meshexec`);
    return this.urlOf(name);
  }

  urlOf(database: string): string {
    return `postgres://meshexec:${this.password}@127.0.0.1:${this.port}/${database}`;
  }

  /** Runs one SQL statement as the superuser, over the socket; returns its output rows as text. */
  async psql(sql: string, database = "postgres"): Promise<string> {
    const { stdout } = await this.asPostgres("psql", [
      "-h",
      this.socketDir,
      "-p",
      String(this.port),
      "-U",
      "postgres",
      "-d",
      database,
      "-v",
      "ON_ERROR_STOP=1",
      "-qtAc",
      sql,
    ]);
    return stdout.trim();
  }

  async start(): Promise<void> {
    const options = `-p ${this.port} -k ${this.socketDir} -c fsync=off -c listen_addresses=127.0.0.1 -c max_connections=200`;
    await this.asPostgres("pg_ctl", ["-D", this.dataDir, "-l", join(this.dir, "server.log"), "-w", "-t", "30", "-o", options, "start"]);
    running.add(this);
    await waitFor(`PostgreSQL on port ${this.port}`, () => accepts(this.port));
  }

  /** Serves TLS with this certificate and key (copied where the postgres user owns them); plain TCP stays allowed. */
  async enableTls(pair: { cert: string; key: string }): Promise<void> {
    for (const [from, to] of [
      [pair.cert, "server.crt"],
      [pair.key, "server.key"],
    ]) {
      copyFileSync(from, join(this.dataDir, to));
      chownSync(join(this.dataDir, to), this.owner.uid, this.owner.gid);
      chmodSync(join(this.dataDir, to), 0o600);
    }
    await this.psql("ALTER SYSTEM SET ssl = on");
    await this.psql("SELECT pg_reload_conf()");
  }

  /** Stops the server: "fast" ends every session (as an operator's restart), "immediate" as a crash. */
  async stop(mode: "fast" | "immediate" = "fast"): Promise<void> {
    await this.asPostgres("pg_ctl", ["-D", this.dataDir, "-m", mode, "-w", "stop"]);
    running.delete(this);
  }

  /** Stops the server if it runs, and removes its files. */
  async destroy(): Promise<void> {
    if (running.has(this)) await this.stop("immediate").catch(() => this.stopNow());
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** For the exit hook: no awaiting there. */
  stopNow(): void {
    try {
      execFileSync("runuser", ["-u", "postgres", "--", `${BIN}/pg_ctl`, "-D", this.dataDir, "-m", "immediate", "stop"], { stdio: "ignore" });
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private asPostgres(tool: string, args: string[]) {
    return run("runuser", ["-u", "postgres", "--", `${BIN}/${tool}`, ...args], { cwd: this.dir });
  }
}
