import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { TestContainers } from "../support/test-containers.js";
import { TestStack } from "../support/test-stack.js";
import { waitFor } from "../support/wait-for.js";

describe("jobs, async submit, idempotency keys and the audit trail", function () {
  this.timeout(60_000);
  const containers = new TestContainers();
  let stack: TestStack;
  let box: string;
  let token: string;

  before(async () => {
    [stack, box] = await Promise.all([TestStack.start([{ hostname: "j-a" }, { hostname: "j-b" }]), containers.start()]);
    token = await stack.token();
  });
  after(async () => {
    await stack?.stop();
    await containers.removeAll();
  });

  const getJob = async (id: string) => (await stack.request("GET", `/job/${id}`, { token })).body;
  const restartRouter = async (signal: NodeJS.Signals) => {
    await stack.router.stop(signal);
    await stack.startRouter(stack.routerPort);
    await stack.waitForAgents(["j-a", "j-b"], 15_000);
  };

  it("keeps a job, with its results and env keys only, across a router restart", async () => {
    const reply = await stack.exec("_all", box, { command: ["sh", "-c", "echo $MODE | tr a-z A-Z"], env: ["MODE=persisted"] });
    expect(reply.status).to.equal(202);
    await restartRouter("SIGTERM");
    const job = await getJob(reply.body.job_id);
    expect(job).to.include({ job_id: reply.body.job_id, status: "completed", target: "_all", container_id: box, subject: "test" });
    expect(job.command).to.deep.equal(["sh", "-c", "echo $MODE | tr a-z A-Z"]);
    expect(job.env_keys).to.deep.equal(["MODE"]);
    expect(job.hosts).to.deep.equal(["j-a", "j-b"]);
    expect(job.results.map((r: { hostname: string; stdout: string }) => [r.hostname, r.stdout])).to.deep.equal([
      ["j-a", "PERSISTED\n"],
      ["j-b", "PERSISTED\n"],
    ]);
    const audit = (await stack.request("GET", "/audit?limit=100", { token })).body.entries;
    expect(audit.some((e: { job_id: string }) => e.job_id === reply.body.job_id)).to.equal(true);
  });

  it("answers an async submit at once and fills the job in as hosts answer", async () => {
    const reply = await stack.exec("_all", box, { command: ["sh", "-c", "sleep 2; echo done"] }, { query: "async=true" });
    expect(reply.status).to.equal(202);
    expect(reply.body.results).to.deep.equal([]);
    // Still running when the 202 is in hand: the answer did not wait for the command.
    expect((await getJob(reply.body.job_id)).status).to.equal("running");
    const job = await waitFor("the async job to complete", async () => {
      const j = await getJob(reply.body.job_id);
      return j.status === "completed" && j;
    });
    expect(job.results.map((r: { stdout: string }) => r.stdout)).to.deep.equal(["done\n", "done\n"]);
  });

  it("marks a job that was running when the router died as failed on restart", async () => {
    const reply = await stack.exec("j-a", box, { command: ["sleep", "310"], timeout_seconds: 30 }, { query: "async=true" });
    await waitFor("the exec to start", async () => (await containers.countRunning(box, "sleep 310")) > 0);
    await restartRouter("SIGKILL");
    expect(await getJob(reply.body.job_id)).to.include({ status: "failed", error: "router restarted" });
  });

  it("runs a request once for 10 concurrent callers with one Idempotency-Key, and gives all the same job", async () => {
    const key = randomUUID();
    const file = `/tmp/idempotent-${key}`;
    const body = { command: ["sh", "-c", `echo ran >> ${file}; sleep 0.5`] };
    const replies = await Promise.all(Array.from({ length: 10 }, () => stack.exec("j-a", box, body, { headers: { "idempotency-key": key } })));
    replies.forEach((r) => expect(r.status).to.equal(202));
    expect(new Set(replies.map((r) => r.body.job_id)).size).to.equal(1);
    replies.forEach((r) => expect(r.body.results[0]).to.include({ status: "ok", exit_code: 0 }));

    const later = await stack.exec("j-a", box, body, { headers: { "idempotency-key": key } });
    expect(later.body.job_id).to.equal(replies[0].body.job_id);
    const count = await stack.exec("j-a", box, { command: ["wc", "-l", file] });
    expect(count.body.results[0].stdout).to.equal(`1 ${file}\n`);
  });

  it("refuses the same Idempotency-Key with a different body with 409", async () => {
    const key = randomUUID();
    expect((await stack.exec("j-a", box, { command: ["echo", "one"] }, { headers: { "idempotency-key": key } })).status).to.equal(202);
    const conflict = await stack.exec("j-a", box, { command: ["echo", "two"] }, { headers: { "idempotency-key": key } });
    expect(conflict.status).to.equal(409);
    expect(conflict.body).to.include({ error: "idempotency key reused", code: 409 });
    expect(conflict.body.details).to.include(key);
  });

  it("pages /jobs newest first, filtered by target and status", async () => {
    const target = "j-b";
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await stack.exec(target, box, { command: ["echo", String(i)] })).body.job_id);
    const seen: string[] = [];
    let cursor = "";
    do {
      const page = await stack.request("GET", `/jobs?target=${target}&status=completed&limit=2${cursor ? `&cursor=${cursor}` : ""}`, { token });
      expect(page.status).to.equal(200);
      expect(page.body.jobs.length).to.be.at.most(2);
      page.body.jobs.forEach((j: { target: string; status: string }) => expect(j).to.include({ target, status: "completed" }));
      seen.push(...page.body.jobs.map((j: { job_id: string }) => j.job_id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen.slice(0, 5)).to.deep.equal([...ids].reverse());
    expect((await stack.request("GET", "/jobs?limit=101", { token })).status).to.equal(400);
    expect((await stack.request("GET", "/jobs?status=bogus", { token })).status).to.equal(400);
    expect((await stack.request("GET", `/job/${randomUUID()}`, { token })).status).to.equal(404);
  });

  it("audits refused attempts too, and pages /audit newest first", async () => {
    const requestId = randomUUID();
    await stack.exec("j-a", box, { command: ["true"] }, { token: "garbage", headers: { "x-request-id": `${requestId}-401` } });
    await stack.exec("j-a", box, { command: [] }, { headers: { "x-request-id": `${requestId}-400` } });
    await stack.exec("nobody-here", box, { command: ["true"] }, { headers: { "x-request-id": `${requestId}-404` } });
    const auditPages = async () => {
      const entries = [];
      let cursor = "";
      for (let page = 0; page < 3; page++) {
        const reply = await stack.request("GET", `/audit?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { token });
        expect(reply.status).to.equal(200);
        entries.push(...reply.body.entries);
        cursor = reply.body.next_cursor;
      }
      return entries.filter((e: { request_id: string }) => e.request_id.startsWith(requestId));
    };
    // The edge reports the 401 it gave itself without holding up its answer, so wait for that entry.
    const mine = await waitFor("all three refusals in the audit log", async () => {
      const found = await auditPages();
      return found.length === 3 && found;
    });
    expect(mine.map((e: { http_status: number }) => e.http_status)).to.deep.equal([404, 400, 401]);
    expect(mine[0]).to.include({ subject: "test", target: "nobody-here", grpc_code: "NOT_FOUND" });
    expect(mine[2]).to.include({ subject: "", grpc_code: "UNAUTHENTICATED" });
    expect(mine[0].source_address).to.match(/127\.0\.0\.1/);
  });

  it("needs job:read for jobs and audit:read for the audit log", async () => {
    const execOnly = await stack.token(["docker:execute"]);
    expect((await stack.request("GET", "/jobs", { token: execOnly })).status).to.equal(403);
    expect((await stack.request("GET", "/audit", { token: execOnly })).status).to.equal(403);
    expect((await stack.request("GET", "/audit", { token: await stack.token(["audit:read"]) })).status).to.equal(200);
  });

  it("stores neither env values nor tokens anywhere in the data directory", async () => {
    const secret = `s3cr3t-${randomUUID()}`;
    await stack.exec("_all", box, { command: ["true"], env: [`API_KEY=${secret}`] });
    await stack.exec("j-a", box, { command: ["true"], env: [`API_KEY=${secret}`, "bad key"] });
    await stack.exec("j-a", box, { command: ["true"], env: [`API_KEY=${secret}`] }, { query: "async=true" });
    const files = readdirSync(stack.dataDir).map((name) => readFileSync(join(stack.dataDir, name)).toString("latin1"));
    expect(files.length).to.be.greaterThan(0);
    for (const content of files) {
      expect(content).to.not.include(secret);
      expect(content).to.not.include(token);
    }
  });
});
