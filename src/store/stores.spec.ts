import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HostResult } from "../gen/meshexec/v1/exec.js";
import {
  MemoryAgentRevocations,
  MemoryAuditLog,
  MemoryJobStore,
  MemoryTokenRevocations,
  jobStatusOf,
  openSqliteStores,
  type AgentRevocations,
  type AuditLog,
  type JobStore,
  type NewJob,
  type TokenRevocations,
} from "./index.js";

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
  subject: "alice",
  target: "_all",
  containerId: "web",
  command: ["true"],
  envKeys: ["A"],
  hosts: ["a", "b"],
  createdAt: new Date(),
  ...over,
});

const backends: Array<[string, () => { jobs: JobStore; audit: AuditLog; tokenRevocations: TokenRevocations; agentRevocations: AgentRevocations; close(): void }]> = [
  [
    "memory",
    () => ({ jobs: new MemoryJobStore(), audit: new MemoryAuditLog(), tokenRevocations: new MemoryTokenRevocations(), agentRevocations: new MemoryAgentRevocations(), close: () => {} }),
  ],
  [
    "SQLite",
    () => {
      const dir = mkdtempSync(join(tmpdir(), "meshexec-store-"));
      const stores = openSqliteStores(dir);
      return { ...stores, close: () => (stores.close(), rmSync(dir, { recursive: true })) };
    },
  ],
];

for (const [name, open] of backends) {
  describe(`${name} stores`, () => {
    let stores: ReturnType<(typeof backends)[number][1]>;
    beforeEach(() => (stores = open()));
    afterEach(() => stores.close());

    it("keep a job's results as they arrive, sorted by host, a later one replacing an earlier", () => {
      stores.jobs.create(job("j1"));
      stores.jobs.addResults("j1", [result("b")]);
      stores.jobs.addResults("j1", [result("a", "failed"), result("a")]);
      stores.jobs.finish("j1", "completed");
      const found = stores.jobs.get("j1")!;
      expect(found.results.map((r) => [r.hostname, r.status])).to.deep.equal([["a", "ok"], ["b", "ok"]]);
      expect(found).to.include({ status: "completed", subject: "alice" });
      expect(found.envKeys).to.deep.equal(["A"]);
      expect(found.finishedAt).to.be.instanceOf(Date);
    });

    it("page jobs newest first, filtered, with a cursor", () => {
      for (let i = 1; i <= 5; i++) stores.jobs.create(job(`j${i}`, { target: i % 2 ? "_all" : "web-1" }));
      const first = stores.jobs.list({ limit: 2 });
      expect(first.items.map((j) => j.id)).to.deep.equal(["j5", "j4"]);
      const second = stores.jobs.list({ limit: 2, cursor: first.nextCursor });
      expect(second.items.map((j) => j.id)).to.deep.equal(["j3", "j2"]);
      const last = stores.jobs.list({ limit: 2, cursor: second.nextCursor });
      expect(last.items.map((j) => j.id)).to.deep.equal(["j1"]);
      expect(last.nextCursor).to.equal(undefined);
      expect(stores.jobs.list({ limit: 10, target: "web-1" }).items.map((j) => j.id)).to.deep.equal(["j4", "j2"]);
      expect(() => stores.jobs.list({ limit: 1, cursor: "garbage" })).to.throw(/cursor/);
    });

    it("list only one subject's jobs when asked, pages included", () => {
      for (let i = 1; i <= 5; i++) stores.jobs.create(job(`j${i}`, { subject: i % 2 ? "alice" : "bob" }));
      const first = stores.jobs.list({ limit: 2, subject: "alice" });
      expect(first.items.map((j) => j.id)).to.deep.equal(["j5", "j3"]);
      expect(stores.jobs.list({ limit: 2, subject: "alice", cursor: first.nextCursor }).items.map((j) => j.id)).to.deep.equal(["j1"]);
      expect(stores.jobs.list({ limit: 10, subject: "bob", target: "_all" }).items.map((j) => j.id)).to.deep.equal(["j4", "j2"]);
      expect(stores.jobs.list({ limit: 10, subject: "carol" }).items).to.deep.equal([]);
    });

    it("keep token revocations, the first time of each, until pruned", () => {
      const day = 86_400_000;
      const first = new Date(Date.now() - 40 * day);
      expect(stores.tokenRevocations.revoke("old", first).getTime()).to.equal(first.getTime());
      expect(stores.tokenRevocations.revoke("old", new Date()).getTime()).to.equal(first.getTime());
      stores.tokenRevocations.revoke("recent", new Date());
      expect(["old", "recent", "never"].map((jti) => stores.tokenRevocations.isRevoked(jti))).to.deep.equal([true, true, false]);
      expect(stores.tokenRevocations.pruneBefore(new Date(Date.now() - 30 * day))).to.equal(1);
      expect(["old", "recent"].map((jti) => stores.tokenRevocations.isRevoked(jti))).to.deep.equal([false, true]);
    });

    it("find a job by subject and idempotency key within the window only", () => {
      stores.jobs.create(job("old", { idempotencyKey: "k", createdAt: new Date(Date.now() - 25 * 3_600_000) }));
      stores.jobs.create(job("new", { idempotencyKey: "k" }));
      expect(stores.jobs.findByIdempotencyKey("alice", "k", new Date(Date.now() - 24 * 3_600_000))?.id).to.equal("new");
      expect(stores.jobs.findByIdempotencyKey("bob", "k", new Date(0))).to.equal(undefined);
    });

    it("fail running jobs and prune old finished ones", () => {
      stores.jobs.create(job("running"));
      stores.jobs.create(job("done", { createdAt: new Date(Date.now() - 8 * 86_400_000) }));
      stores.jobs.finish("done", "completed");
      expect(stores.jobs.failRunning("router restarted")).to.equal(1);
      expect(stores.jobs.get("running")).to.include({ status: "failed", error: "router restarted" });
      expect(stores.jobs.pruneBefore(new Date(Date.now() - 7 * 86_400_000))).to.equal(1);
      expect(stores.jobs.get("done")).to.equal(undefined);
    });

    it("page the audit log newest first", () => {
      for (let i = 1; i <= 3; i++) {
        stores.audit.append({
          time: new Date(),
          subject: "alice",
          sourceAddress: "127.0.0.1",
          target: "_all",
          containerId: "web",
          command: ["echo", String(i)],
          grpcCode: "OK",
          httpStatus: 202,
          jobId: `j${i}`,
          requestId: `r${i}`,
          error: "",
        });
      }
      const first = stores.audit.list({ limit: 2 });
      expect(first.items.map((e) => e.jobId)).to.deep.equal(["j3", "j2"]);
      expect(stores.audit.list({ limit: 2, cursor: first.nextCursor }).items.map((e) => e.command)).to.deep.equal([["echo", "1"]]);
    });

    it("keep each hostname's latest agent revocation", () => {
      expect(stores.agentRevocations.revokedAt("web-1")).to.equal(undefined);
      stores.agentRevocations.revoke("web-1", new Date(1_000));
      stores.agentRevocations.revoke("web-1", new Date(2_000));
      stores.agentRevocations.revoke("db-1", new Date(3_000));
      expect(stores.agentRevocations.revokedAt("web-1")?.getTime()).to.equal(2_000);
      expect(stores.agentRevocations.revokedAt("db-1")?.getTime()).to.equal(3_000);
    });
  });
}

describe("jobStatusOf", () => {
  it("is completed when every host ran, partial when some did, failed when none did", () => {
    expect(jobStatusOf([result("a"), result("b")])).to.equal("completed");
    expect(jobStatusOf([result("a"), result("b", "timeout")])).to.equal("partial_failure");
    expect(jobStatusOf([result("a", "failed")])).to.equal("failed");
    expect(jobStatusOf([])).to.equal("failed");
  });
});
