import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HostResult } from "../gen/meshexec/v1/exec.js";
import Database from "better-sqlite3";
import {
  MemoryAgentRevocations,
  MemoryAuditLog,
  MemoryJobStore,
  MemoryTokenRevocations,
  jobStatusOf,
  openPostgresStores,
  openSqliteStores,
  type AgentRevocations,
  type AuditLog,
  type JobQuery,
  type JobStore,
  type KeyedJob,
  type NewAuditEntry,
  type NewJob,
  type TokenRevocations,
} from "./index.js";
import { POSTGRES_MIGRATIONS } from "./postgres-migrations.js";
import type { AdmissionLimits, SharedAdmissions } from "./subject-admissions.js";
import { TestPostgres } from "../../test/support/postgres.js";
import { createTestCertificates } from "../../test/support/test-certificates.js";
import { waitFor } from "../../test/support/wait-for.js";
import { GrpcStatus, MeshError } from "../errors/index.js";

const result = (hostname: string, status = "ok"): HostResult => ({
  hostname,
  status,
  stdout: "",
  stderr: "",
  exitCode: 0,
  changed: status === "ok",
  error: "",
  durationMs: 1,
  stdoutTruncated: false,
  stderrTruncated: false,
});

const job = (id: string, over: Partial<NewJob> = {}): NewJob => ({
  id,
  router: "r1",
  subject: "alice",
  target: "_all",
  containerId: "web",
  command: ["true"],
  envKeys: ["A"],
  hosts: ["a", "b"],
  createdAt: new Date(),
  ...over,
});

type TestStores = { jobs: JobStore; audit: AuditLog; tokenRevocations: TokenRevocations; agentRevocations: AgentRevocations; close(): Promise<void> };

/** PostgreSQL's server is started once for its backend's specs; each spec gets a database of its own. */
let postgres: TestPostgres | undefined;

const backends: Array<{ name: string; open: () => Promise<TestStores>; before?: () => Promise<void>; after?: () => Promise<void> }> = [
  {
    name: "memory",
    open: async () => ({
      jobs: new MemoryJobStore(),
      audit: new MemoryAuditLog(),
      tokenRevocations: new MemoryTokenRevocations(),
      agentRevocations: new MemoryAgentRevocations(),
      close: async () => {},
    }),
  },
  {
    name: "SQLite",
    open: async () => {
      const dir = mkdtempSync(join(tmpdir(), "meshexec-store-"));
      const stores = openSqliteStores(dir);
      return { ...stores, close: async () => (await stores.close(), rmSync(dir, { recursive: true })) };
    },
  },
  {
    name: "PostgreSQL",
    before: async () => void (postgres = await TestPostgres.start()),
    after: async () => postgres?.destroy(),
    open: async () => openPostgresStores({ url: await postgres!.createDatabase() }),
  },
];

for (const { name, open, before: setUp, after: tearDown } of backends) {
  describe(`${name} stores`, function () {
    this.timeout(30_000);
    let stores: TestStores;
    if (setUp) before(setUp);
    if (tearDown) after(tearDown);
    beforeEach(async () => (stores = await open()));
    afterEach(() => stores.close());

    it("keep a job's results as they arrive, sorted by host, a later one replacing an earlier", async () => {
      await stores.jobs.create(job("j1"));
      await stores.jobs.addResults("j1", [result("b")]);
      await stores.jobs.addResults("j1", [result("a", "failed"), result("a")]);
      await stores.jobs.finish("j1", "completed");
      const found = (await stores.jobs.get("j1"))!;
      expect(found.results.map((r) => [r.hostname, r.status])).to.deep.equal([
        ["a", "ok"],
        ["b", "ok"],
      ]);
      expect(found).to.include({ status: "completed", subject: "alice", router: "r1" });
      expect(found.envKeys).to.deep.equal(["A"]);
      expect(found.finishedAt).to.be.instanceOf(Date);
    });

    it("page jobs newest first, filtered, with a cursor", async () => {
      for (let i = 1; i <= 5; i++) await stores.jobs.create(job(`j${i}`, { target: i % 2 ? "_all" : "web-1" }));
      const ids = async (query: JobQuery) => (await stores.jobs.list(query)).items.map((j) => j.id);
      const first = await stores.jobs.list({ limit: 2 });
      expect(first.items.map((j) => j.id)).to.deep.equal(["j5", "j4"]);
      const second = await stores.jobs.list({ limit: 2, cursor: first.nextCursor });
      expect(second.items.map((j) => j.id)).to.deep.equal(["j3", "j2"]);
      const last = await stores.jobs.list({ limit: 2, cursor: second.nextCursor });
      expect(last.items.map((j) => j.id)).to.deep.equal(["j1"]);
      expect(last.nextCursor).to.equal(undefined);
      expect(await ids({ limit: 10, target: "web-1" })).to.deep.equal(["j4", "j2"]);
      await expectRejection(stores.jobs.list({ limit: 1, cursor: "garbage" }), /cursor/);
    });

    it("list only one subject's jobs when asked, pages included", async () => {
      for (let i = 1; i <= 5; i++) await stores.jobs.create(job(`j${i}`, { subject: i % 2 ? "alice" : "bob" }));
      const ids = async (query: JobQuery) => (await stores.jobs.list(query)).items.map((j) => j.id);
      const first = await stores.jobs.list({ limit: 2, subject: "alice" });
      expect(first.items.map((j) => j.id)).to.deep.equal(["j5", "j3"]);
      expect(await ids({ limit: 2, subject: "alice", cursor: first.nextCursor })).to.deep.equal(["j1"]);
      expect(await ids({ limit: 10, subject: "bob", target: "_all" })).to.deep.equal(["j4", "j2"]);
      expect(await ids({ limit: 10, subject: "carol" })).to.deep.equal([]);
    });

    it("keep token revocations, the first time of each, until pruned", async () => {
      const day = 86_400_000;
      const first = new Date(Date.now() - 40 * day);
      const revoked = (jtis: string[]) => Promise.all(jtis.map((jti) => stores.tokenRevocations.isRevoked(jti)));
      expect((await stores.tokenRevocations.revoke("old", first)).getTime()).to.equal(first.getTime());
      expect((await stores.tokenRevocations.revoke("old", new Date())).getTime()).to.equal(first.getTime());
      await stores.tokenRevocations.revoke("recent", new Date());
      expect(await revoked(["old", "recent", "never"])).to.deep.equal([true, true, false]);
      expect(await stores.tokenRevocations.pruneBefore(new Date(Date.now() - 30 * day))).to.equal(1);
      expect(await revoked(["old", "recent"])).to.deep.equal([false, true]);
    });

    it("give an idempotency key to its first claimer, with its job, and every later claim that job", async () => {
      const keyed = (id: string, requestHash = "h1", subject = "alice") => job(id, { subject, idempotencyKey: "k", requestHash }) as KeyedJob;
      const dayAgo = new Date(Date.now() - 86_400_000);
      expect(await stores.jobs.claimIdempotencyKey(keyed("first"), dayAgo)).to.deep.equal({ owner: true });
      expect((await stores.jobs.get("first"))?.status).to.equal("running");
      expect(await stores.jobs.claimIdempotencyKey(keyed("second", "h2"), dayAgo)).to.deep.equal({ owner: false, jobId: "first", requestHash: "h1" });
      expect(await stores.jobs.get("second")).to.equal(undefined);
      expect(await stores.jobs.claimIdempotencyKey(keyed("bobs", "h1", "bob"), dayAgo)).to.deep.equal({ owner: true });
      // A claim made before notBefore has lapsed: the key starts a new job.
      expect(await stores.jobs.claimIdempotencyKey(keyed("later"), new Date(Date.now() + 1_000))).to.deep.equal({ owner: true });
    });

    it("give a key claimed by many at once to exactly one of them", async () => {
      const dayAgo = new Date(Date.now() - 86_400_000);
      const claims = await Promise.all(
        Array.from({ length: 10 }, (_, i) => stores.jobs.claimIdempotencyKey(job(`c${i}`, { idempotencyKey: "race", requestHash: "h" }) as KeyedJob, dayAgo)),
      );
      const owners = claims.flatMap((claim, i) => (claim.owner ? [`c${i}`] : []));
      expect(owners).to.have.length(1);
      expect(claims.filter((claim) => !claim.owner).map((claim) => !claim.owner && claim.jobId)).to.deep.equal(Array(9).fill(owners[0]));
    });

    it("fail only the given router's running jobs, and prune old finished ones", async () => {
      await stores.jobs.create(job("running"));
      await stores.jobs.create(job("elsewhere", { router: "r2" }));
      await stores.jobs.create(job("done", { createdAt: new Date(Date.now() - 8 * 86_400_000) }));
      await stores.jobs.finish("done", "completed");
      expect(await stores.jobs.failRunningOf("r1", "router restarted")).to.equal(1);
      expect(await stores.jobs.get("running")).to.include({ status: "failed", error: "router restarted" });
      expect(await stores.jobs.get("elsewhere")).to.include({ status: "running", error: "" });
      expect(await stores.jobs.pruneBefore(new Date(Date.now() - 7 * 86_400_000))).to.equal(1);
      expect(await stores.jobs.get("done")).to.equal(undefined);
    });

    it("page the audit log newest first", async () => {
      for (let i = 1; i <= 3; i++) await stores.audit.append(auditEntry(`j${i}`, new Date(), ["echo", String(i)]));
      const first = await stores.audit.list({ limit: 2 });
      expect(first.items.map((e) => e.jobId)).to.deep.equal(["j3", "j2"]);
      expect((await stores.audit.list({ limit: 2, cursor: first.nextCursor })).items.map((e) => e.command)).to.deep.equal([["echo", "1"]]);
    });

    it("prune audit entries past their retention, and refuse to remove any younger than a day", async () => {
      const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000);
      await stores.audit.append(auditEntry("ancient", daysAgo(100)));
      await stores.audit.append(auditEntry("last-month", daysAgo(30)));
      await stores.audit.append(auditEntry("fresh", new Date()));
      expect(await stores.audit.pruneBefore(daysAgo(90))).to.equal(1);
      const kept = async () => (await stores.audit.list({ limit: 10 })).items.map((e) => e.jobId);
      expect(await kept()).to.deep.equal(["fresh", "last-month"]);
      await expectRejection(stores.audit.pruneBefore(new Date(Date.now() + 1000)), /append-only: only entries older than 1 day may be pruned/);
      expect(await kept()).to.deep.equal(["fresh", "last-month"]);
    });

    it("keep each hostname's latest agent revocation", async () => {
      expect(await stores.agentRevocations.revokedAt("web-1")).to.equal(undefined);
      await stores.agentRevocations.revoke("web-1", new Date(1_000));
      await stores.agentRevocations.revoke("web-1", new Date(2_000));
      await stores.agentRevocations.revoke("db-1", new Date(3_000));
      expect((await stores.agentRevocations.revokedAt("web-1"))?.getTime()).to.equal(2_000);
      expect((await stores.agentRevocations.revokedAt("db-1"))?.getTime()).to.equal(3_000);
    });
  });
}

async function expectRejection(promise: Promise<unknown>, message: RegExp): Promise<void> {
  const outcome = await promise.then(
    () => undefined,
    (err: Error) => err,
  );
  expect(outcome, "rejected").to.be.instanceOf(Error);
  expect(outcome!.message).to.match(message);
}

const auditEntry = (jobId: string, time: Date, command = ["true"]): NewAuditEntry => ({
  time,
  subject: "alice",
  sourceAddress: "127.0.0.1",
  target: "_all",
  containerId: "web",
  command,
  grpcCode: "OK",
  httpStatus: 202,
  jobId,
  requestId: `r-${jobId}`,
  error: "",
});

describe("the SQLite audit table itself", () => {
  let dir: string;
  let stores: ReturnType<typeof openSqliteStores>;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "meshexec-store-"));
    stores = openSqliteStores(dir);
    await stores.audit.append(auditEntry("fresh", new Date()));
    await stores.audit.append(auditEntry("old", new Date(Date.now() - 2 * 86_400_000)));
    await stores.close(); // flushes the batched writes
  });
  afterEach(() => rmSync(dir, { recursive: true }));

  // Below the store's code: what anything with the file (a bug, a script) can and cannot do.
  it("refuses UPDATE, and DELETE of a row younger than a day, but lets an expired row go", () => {
    const db = new Database(join(dir, "meshexec.sqlite"));
    try {
      expect(() => db.prepare("UPDATE audit SET subject = 'mallory'").run()).to.throw(/append-only/);
      expect(() => db.prepare("DELETE FROM audit WHERE job_id = 'fresh'").run()).to.throw(/only entries older than 1 day/);
      expect(() => db.prepare("DELETE FROM audit").run()).to.throw(/only entries older than 1 day/);
      expect(db.prepare("DELETE FROM audit WHERE job_id = 'old'").run().changes).to.equal(1);
      expect(db.prepare("SELECT job_id FROM audit").all()).to.deep.equal([{ job_id: "fresh" }]);
    } finally {
      db.close();
    }
  });
});

describe("PostgreSQL itself, below the stores", function () {
  this.timeout(60_000);
  let server: TestPostgres;
  before(async () => (server = await TestPostgres.start()));
  after(() => server?.destroy());

  it("migrates an empty database once when three routers start at once, and refuses a schema newer than it knows", async () => {
    const url = await server.createDatabase();
    const database = url.slice(url.lastIndexOf("/") + 1);
    const routers = await Promise.all([1, 2, 3].map(() => openPostgresStores({ url })));
    await Promise.all(routers.map((stores) => stores.close()));
    expect(await server.psql("SELECT version FROM schema_migrations ORDER BY version", database)).to.equal(
      POSTGRES_MIGRATIONS.map((m) => m.version).join("\n"),
    );
    await server.psql("INSERT INTO schema_migrations (version, name) VALUES (999, 'from the future')", database);
    await expectRejection(openPostgresStores({ url }), /schema migrations 999, which this meshexec does not know/);
  });

  it("keeps the audit table append-only: UPDATE, TRUNCATE and DELETE of a row younger than a day refused, an expired row may go", async () => {
    const url = await server.createDatabase();
    const database = url.slice(url.lastIndexOf("/") + 1);
    const stores = await openPostgresStores({ url });
    await stores.audit.append(auditEntry("fresh", new Date()));
    await stores.audit.append(auditEntry("old", new Date(Date.now() - 2 * 86_400_000)));
    await stores.close();
    // As the superuser: no role, however privileged, gets past the triggers short of dropping them.
    await expectRejection(server.psql("UPDATE audit SET subject = 'mallory'", database), /append-only/);
    await expectRejection(server.psql("TRUNCATE audit", database), /append-only/);
    await expectRejection(server.psql("DELETE FROM audit WHERE job_id = 'fresh'", database), /only entries older than 1 day/);
    await expectRejection(server.psql("DELETE FROM audit", database), /only entries older than 1 day/);
    expect(await server.psql("DELETE FROM audit WHERE job_id = 'old' RETURNING job_id", database)).to.equal("old");
    expect(await server.psql("SELECT job_id FROM audit", database)).to.equal("fresh");
  });

  it("holds a token revoked through one router on another within seconds, and at once on the one that revoked it", async () => {
    const url = await server.createDatabase();
    const [one, other] = await Promise.all([openPostgresStores({ url }), openPostgresStores({ url })]);
    try {
      expect(await other.tokenRevocations.isRevoked("t1")).to.equal(false);
      await one.tokenRevocations.revoke("t1", new Date());
      expect(await one.tokenRevocations.isRevoked("t1")).to.equal(true);
      await waitFor("the other router to refuse t1", () => other.tokenRevocations.isRevoked("t1"), 5_000);
    } finally {
      await Promise.all([one.close(), other.close()]);
    }
  });

  it("with a CA file, speaks TLS and verifies the server against that CA", async () => {
    const [ours, another] = [createTestCertificates(), createTestCertificates()];
    await server.enableTls(ours.server);
    const url = await server.createDatabase();
    const stores = await openPostgresStores({ url, caFile: ours.ca });
    await stores.jobs.create(job("over-tls"));
    await stores.close();
    await expectRejection(openPostgresStores({ url, caFile: another.ca }), /certificate/);
  });

  it('answers UNAVAILABLE "database unavailable" while the server is down, never showing the password, and works again once it is back', async () => {
    const url = await server.createDatabase();
    const stores = await openPostgresStores({ url });
    try {
      await stores.jobs.create(job("before"));
      await server.stop();
      const refusal = await stores.jobs.get("before").then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refusal).to.be.instanceOf(MeshError);
      expect(refusal).to.include({ code: GrpcStatus.UNAVAILABLE, error: "database unavailable" });
      expect((refusal as MeshError).message)
        .to.include(`127.0.0.1:${server.port}`)
        .and.not.include(server.password);
      await expectRejection(openPostgresStores({ url }), /database unavailable/);
      await server.start();
      expect((await stores.jobs.get("before"))?.id).to.equal("before");
    } finally {
      await stores.close();
    }
  });
});

describe("per-subject limits shared in PostgreSQL", function () {
  this.timeout(60_000);
  let server: TestPostgres;
  let database: string;
  /** Two routers' stores on one database. */
  let ra: SharedAdmissions;
  let rb: SharedAdmissions;
  let close: () => Promise<void>;
  before(async () => (server = await TestPostgres.start()));
  after(() => server?.destroy());
  beforeEach(async () => {
    const url = await server.createDatabase();
    database = url.slice(url.lastIndexOf("/") + 1);
    const stores = await Promise.all([openPostgresStores({ url }), openPostgresStores({ url })]);
    [ra, rb] = stores.map((one) => one.sharedAdmissions!);
    close = async () => void (await Promise.all(stores.map((one) => one.close())));
  });
  afterEach(() => close());

  const limits = (ratePerSecond: number, burst: number, maxConcurrent: number): AdmissionLimits => ({ ratePerSecond, burst, maxConcurrent });
  const admit = (store: SharedAdmissions, subject: string, config: AdmissionLimits, router = store === ra ? "ra" : "rb") =>
    store.admit(subject, randomUUID(), router, config);

  it("lets a burst through across routers, refuses the next with the seconds to wait, each subject on its own, and refills by the database's clock", async () => {
    const config = limits(1, 2, 0);
    expect(await admit(ra, "alice", config)).to.deep.equal({ admitted: true });
    expect(await admit(rb, "alice", config)).to.deep.equal({ admitted: true });
    expect(await admit(ra, "alice", config)).to.deep.equal({ admitted: false, reason: "rate limited", retryAfterSeconds: 1 });
    expect(await admit(rb, "alice", config)).to.deep.equal({ admitted: false, reason: "rate limited", retryAfterSeconds: 1 });
    expect(await admit(rb, "bob", config)).to.deep.equal({ admitted: true });
    // Refusals take nothing: within about a second, one token is back, and only one.
    await waitFor("a token to refill", async () => (await admit(rb, "alice", config)).admitted, 5_000);
    expect(await admit(ra, "alice", config)).to.include({ admitted: false, reason: "rate limited" });
  });

  it("caps a subject's running execs across routers, exactly under a race, until slots are released (twice is harmless)", async () => {
    const config = limits(0, 0, 3);
    const slots = Array.from({ length: 12 }, () => randomUUID());
    const decisions = await Promise.all(slots.map((id, i) => [ra, rb][i % 2].admit("alice", id, i % 2 ? "rb" : "ra", config)));
    const taken = slots.filter((_, i) => decisions[i].admitted);
    expect(taken).to.have.length(3);
    expect(decisions.filter((d) => !d.admitted)).to.deep.include({ admitted: false, reason: "too many running", running: 3 });
    expect(await admit(ra, "bob", config)).to.deep.equal({ admitted: true });
    await ra.release([taken[0]]);
    await rb.release([taken[0]]);
    expect(await admit(rb, "alice", config)).to.deep.equal({ admitted: true });
    expect(await admit(ra, "alice", config)).to.include({ admitted: false, running: 3 });
  });

  it("gives back every slot of a router that was lost or restarted, and forgets idle subjects", async () => {
    const config = limits(0, 0, 2);
    await admit(ra, "alice", config);
    await admit(ra, "alice", config);
    await admit(rb, "carol", config);
    expect(await admit(rb, "alice", config)).to.include({ admitted: false, reason: "too many running" });
    expect(await rb.releaseAllOf("ra")).to.equal(2);
    expect(await rb.releaseAllOf("ra")).to.equal(0);
    expect(await admit(rb, "alice", config)).to.deep.equal({ admitted: true });
    expect(await server.psql("SELECT subject || '=' || running FROM subject_rate ORDER BY subject", database)).to.equal("alice=1\ncarol=1");
    expect(await rb.releaseAllOf("rb")).to.equal(2);
    expect(await ra.forgetIdle(config)).to.equal(2);
    expect(await server.psql("SELECT count(*) FROM subject_rate", database)).to.equal("0");
  });

  it('refuses UNAVAILABLE "database unavailable" while the server is down: nobody is admitted unchecked', async () => {
    await server.stop();
    try {
      const refusal = await admit(ra, "alice", limits(1, 2, 1)).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refusal).to.include({ code: GrpcStatus.UNAVAILABLE, error: "database unavailable" });
    } finally {
      await server.start();
    }
  });
});

describe("jobStatusOf", () => {
  it("is completed when every host ran, partial when some did, failed when none did", () => {
    expect(jobStatusOf([result("a"), result("b")])).to.equal("completed");
    expect(jobStatusOf([result("a"), result("b", "timeout")])).to.equal("partial_failure");
    expect(jobStatusOf([result("a", "failed")])).to.equal("failed");
    expect(jobStatusOf([])).to.equal("failed");
  });
});
