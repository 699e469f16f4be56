import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { expect } from "chai";
import { decodeJwt } from "jose";
import { loadSigningKey, mintToken } from "../../src/auth/index.js";
import { expectErrorShape } from "../support/error-shape.js";
import { GrpcCaller } from "../support/grpc-exec.js";
import { MeshexecProcess } from "../support/meshexec-process.js";
import { runCli } from "../support/run-cli.js";
import { TestContainers } from "../support/test-containers.js";
import { TestStack } from "../support/test-stack.js";
import { waitFor } from "../support/wait-for.js";

const EXEC = "docker:execute";

describe("tokens with a lifecycle, job visibility and per-subject limits (real router, edge and agent)", function () {
  this.timeout(60_000);
  const containers = new TestContainers();
  let stack: TestStack;
  let grpc: GrpcCaller;
  let box: string;
  /** A token of its own subject, so each test's execs count against that subject's limits alone. */
  const tokenFor = (subject: string, scopes: string[], ttlMs = 600_000) => mintToken(loadSigningKey({ secret: stack.secret }), { subject, scopes, ttlMs });

  before(async () => {
    [stack, box] = await Promise.all([
      // Low limits, so that a few calls reach them; every test uses subjects of its own.
      TestStack.start([{ hostname: "t-a" }], { routerArgs: ["--rate-limit", "1", "--rate-limit-burst", "3", "--max-concurrent-execs", "1"] }),
      containers.start(),
    ]);
    grpc = new GrpcCaller(stack.routerAddress);
  });
  after(async () => {
    grpc?.close();
    await stack?.stop();
    await containers.removeAll();
  });

  describe("revocation", () => {
    it("refuses a revoked token on its next call over REST and gRPC, though both had verified it, and across a router restart", async () => {
      const token = await tokenFor("revoked-caller", [EXEC, "agent:read"]);
      const { jti } = decodeJwt(token);
      // Verified, and so cached, by the edge and the router alike.
      expect((await stack.request("GET", "/agents", { token })).status).to.equal(200);
      expect((await grpc.listAgents(token)).code).to.equal(status.OK);

      const admin = await tokenFor("security-officer", ["token:revoke", "audit:read"]);
      const revoked = await runCli(["token", "revoke", jti!, "--gateway", stack.gatewayUrl], { MESHEXEC_TOKEN: admin });
      expect(revoked, revoked.stderr).to.include({ code: 0 });
      expect(revoked.stdout).to.match(new RegExp(`^token ${jti} revoked at \\d{4}-`));

      const rest = expectErrorShape(await stack.request("GET", "/agents", { token }), 401);
      expect(rest.details).to.equal("the token has been revoked");
      expect(expectErrorShape(await stack.exec("t-a", box, { command: ["true"] }, { token }), 401).details).to.equal("the token has been revoked");
      const overGrpc = await grpc.exec({ target: "t-a", containerId: box, command: ["true"] }, token);
      expect(overGrpc).to.include({ code: status.UNAUTHENTICATED, details: "the token has been revoked" });

      const audit = (await stack.request("GET", "/audit?limit=100", { token: admin })).body.entries;
      expect(audit.find((e: { command: string[] }) => e.command.join(" ") === `token revoke ${jti}`)).to.include({
        subject: "security-officer",
        http_status: 200,
      });

      await stack.router.stop("SIGTERM");
      await stack.startRouter(stack.routerPort, ["--rate-limit", "1", "--rate-limit-burst", "3", "--max-concurrent-execs", "1"]);
      await stack.waitForAgents(["t-a"], 15_000);
      grpc.close();
      grpc = new GrpcCaller(stack.routerAddress);
      expect((await grpc.listAgents(token)).details).to.equal("the token has been revoked");
    });

    it("needs token:revoke, says what a bad jti is, and takes a jti twice", async () => {
      const lacking = await runCli(["token", "revoke", "some-jti", "--gateway", stack.gatewayUrl], {
        MESHEXEC_TOKEN: await tokenFor("reader", ["agent:read"]),
      });
      expect(lacking.code).to.equal(3);
      expect(lacking.stderr).to.include("token:revoke");
      const admin = await tokenFor("security-officer", ["token:revoke"]);
      expectErrorShape(await stack.request("POST", `/tokens/${"x".repeat(129)}/revoke`, { token: admin }), 400);
      const first = await stack.request("POST", "/tokens/twice/revoke", { token: admin });
      const second = await stack.request("POST", "/tokens/twice/revoke", { token: admin });
      expect(first.status).to.equal(200);
      expect(second.body).to.deep.equal(first.body);
    });
  });

  describe("job visibility", () => {
    it("shows a job to its own subject, as 404 to another, and to job:read:any", async () => {
      const alice = await tokenFor("alice", [EXEC, "job:read"]);
      const ran = await stack.exec("t-a", box, { command: ["echo", "alice's output"] }, { token: alice });
      expect(ran.status).to.equal(202);
      const jobId = ran.body.job_id;

      expect((await stack.request("GET", `/job/${jobId}`, { token: alice })).body).to.include({ job_id: jobId, subject: "alice" });
      const bob = await tokenFor("bob", ["job:read"]);
      const hidden = expectErrorShape(await stack.request("GET", `/job/${jobId}`, { token: bob }), 404);
      // The same answer as for a job that never existed, so ids cannot be probed.
      const absent = expectErrorShape(await stack.request("GET", "/job/no-such-job", { token: bob }), 404);
      expect(hidden.error).to.equal(absent.error);
      const bobsList = (await stack.request("GET", "/jobs?limit=100", { token: bob })).body.jobs;
      expect(bobsList.map((j: { job_id: string }) => j.job_id)).to.not.include(jobId);
      expect((await stack.request("GET", "/jobs?limit=100", { token: alice })).body.jobs.every((j: { subject: string }) => j.subject === "alice")).to.equal(
        true,
      );

      const auditor = await tokenFor("auditor", ["job:read", "job:read:any"]);
      expect((await stack.request("GET", `/job/${jobId}`, { token: auditor })).body.results[0].stdout).to.equal("alice's output\n");
      const everyone = (await stack.request("GET", "/jobs?limit=100", { token: auditor })).body.jobs;
      expect(everyone.map((j: { job_id: string }) => j.job_id)).to.include(jobId);
    });
  });

  describe("per-subject limits", () => {
    it("answers 429 with Retry-After past the burst, over REST and gRPC, audits it, and lets the subject in again", async () => {
      const token = await tokenFor("flood", [EXEC]);
      // Execs to a host that is not there: each is admitted (or not) first, then answered 404 at once,
      // so a few in a row outrun the rate of 1 a second and only the rate is met, never the concurrency.
      const statuses: number[] = [];
      let limited;
      while (!limited && statuses.length < 10) {
        const reply = await stack.exec("nobody-here", box, { command: ["true"] }, { token });
        statuses.push(reply.status);
        if (reply.status === 429) limited = reply;
      }
      expect(statuses.slice(0, 3), String(statuses)).to.deep.equal([404, 404, 404]);
      const error = expectErrorShape(limited!, 429);
      expect(error.details).to.include('subject "flood"').and.include("--rate-limit");
      expect(limited!.headers.get("retry-after")).to.equal("1");

      let overGrpc;
      for (let i = 0; i < 10 && overGrpc?.code !== status.RESOURCE_EXHAUSTED; i++) {
        overGrpc = await grpc.exec({ target: "nobody-here", containerId: box, command: ["true"] }, token);
      }
      expect(overGrpc).to.include({ code: status.RESOURCE_EXHAUSTED, error: "rate limited", retryAfter: "1" });

      const audit = (await stack.request("GET", "/audit?limit=100", { token: await tokenFor("auditor", ["audit:read"]) })).body.entries;
      const refusals = audit.filter((e: { subject: string; http_status: number }) => e.subject === "flood" && e.http_status === 429);
      expect(refusals.length).to.be.at.least(2);
      refusals.forEach((e: { grpc_code: string; error: string }) => expect(e).to.include({ grpc_code: "RESOURCE_EXHAUSTED", error: "rate limited" }));

      // Another subject is not held back by this one.
      expect((await stack.exec("t-a", box, { command: ["true"] }, { token: await tokenFor("bystander", [EXEC]) })).status).to.equal(202);
      await waitFor(
        "the flood subject to be let in again",
        async () => (await stack.exec("t-a", box, { command: ["true"] }, { token })).status === 202,
        10_000,
      );
    });

    it("counts an async job until it ends against --max-concurrent-execs", async () => {
      const token = await tokenFor("busy", [EXEC, "job:read"]);
      const slow = await stack.exec("t-a", box, { command: ["sleep", "4"] }, { token, query: "async=true" });
      expect(slow.status).to.equal(202);
      const refused = expectErrorShape(await stack.exec("t-a", box, { command: ["true"] }, { token }), 429);
      expect(refused.error).to.equal("too many execs running");
      expect(refused.details).to.include("--max-concurrent-execs");
      const cli = await runCli(["exec", "--target", "t-a", "--container", box, "--", "true"], { MESHEXEC_GATEWAY: stack.gatewayUrl, MESHEXEC_TOKEN: token });
      expect(cli.code, cli.stderr).to.equal(5);
      expect(cli.stderr).to.include("too many execs running").and.include("(retry after 1 s)");
      await waitFor("the slow job to finish", async () => (await stack.request("GET", `/job/${slow.body.job_id}`, { token })).body.status === "completed");
      await waitFor("a slot to be free again", async () => (await stack.exec("t-a", box, { command: ["true"] }, { token })).status === 202, 5_000);
    });
  });
});

describe("secrets and lifetimes checked at startup and at mint time", function () {
  this.timeout(30_000);
  const shortSecret = "too-short";

  it("a secret shorter than 32 bytes stops the router, the edge, dev and token with one line and exit 2, before anything listens", async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), "meshexec-short-secret-")), "data");
    const runs = [
      MeshexecProcess.spawn("router", ["router", "--grpc-listen", "127.0.0.1:0", "--data-dir", dataDir], { MESHEXEC_JWT_SECRET: shortSecret }),
      MeshexecProcess.spawn("gateway", ["gateway", "--rest-listen", "127.0.0.1:0"], { MESHEXEC_JWT_SECRET: shortSecret }),
      MeshexecProcess.spawn("dev", ["dev", "--rest-listen", "127.0.0.1:0", "--grpc-listen", "127.0.0.1:0", "--data-dir", dataDir, "--jwt-secret", shortSecret]),
      MeshexecProcess.spawn("token", ["token", "--subject", "x"], { MESHEXEC_JWT_SECRET: shortSecret }),
    ];
    for (const run of runs) {
      const { code } = await run.exited;
      expect(code, `${run.name}: ${run.stderr}`).to.equal(2);
      expect(run.stderr.trim().split("\n"), run.name).to.have.length(1);
      expect(run.stderr).to.include("invalid --jwt-secret: an HS256 secret must be at least 32 bytes, got 9");
      expect(
        run.logs.filter((line) => /listening/.test(String(line.msg))),
        run.name,
      ).to.deep.equal([]);
    }
    expect(existsSync(dataDir), "the data directory").to.equal(false);
  });

  it("meshexec token refuses a --ttl past --max-token-ttl, and prints the jti of what it mints on stderr", async () => {
    const env = { MESHEXEC_JWT_SECRET: randomBytes(32).toString("base64url") };
    const tooLong = await runCli(["token", "--subject", "ci", "--ttl", "31d"], env);
    expect(tooLong.code).to.equal(2);
    expect(tooLong.stderr).to.include("invalid --ttl: a token may live at most 30 d (--max-token-ttl), got 31 d");
    expect(tooLong.stdout).to.equal("");

    const allowed = await runCli(["token", "--subject", "ci", "--ttl", "31d", "--max-token-ttl", "90d"], env);
    expect(allowed.code, allowed.stderr).to.equal(0);
    const { jti, sub } = decodeJwt(allowed.stdout.trim());
    expect(sub).to.equal("ci");
    expect(allowed.stderr).to.equal(`jti: ${jti} (revoke with: meshexec token revoke ${jti})\n`);
  });
});
