import { expect } from "chai";
import { expectErrorShape } from "../support/error-shape.js";
import { TestContainers } from "../support/test-containers.js";
import { TestStack } from "../support/test-stack.js";
import { waitFor } from "../support/wait-for.js";

const HOSTS = ["roll-a", "roll-b", "roll-c", "roll-d", "roll-e"];

/**
 * Rolling execution (max_concurrency, max_errors) and CancelJob, on the real engine. Every agent
 * runs on the one local engine, so the hosts' commands share one container: what they append to a
 * file in it is what the test reads back.
 */
describe("rolling execution and cancel (router, edge, five agents, real Docker)", function () {
  this.timeout(60_000);
  const containers = new TestContainers();
  let stack: TestStack;
  let box: string;
  let admin: string;

  before(async () => {
    [stack, box] = await Promise.all([TestStack.start(HOSTS.map((hostname) => ({ hostname }))), containers.start()]);
    admin = await stack.token();
  });
  after(async () => {
    await stack?.stop();
    await containers.removeAll();
  });

  const readFile = async (path: string) =>
    (await stack.exec("roll-a", box, { command: ["sh", "-c", `cat ${path} 2>/dev/null; true`] })).body.results[0].stdout as string;

  it('runs at most max_concurrency hosts at once ("40%" of 5 is 2), in hostname order, the next as one finishes', async () => {
    // Appends are atomic, so the file's order of starts (s) and ends (e) is the order they happened in.
    const log = `/tmp/overlap-${Date.now()}`;
    const reply = await stack.exec("_all", box, {
      command: ["sh", "-c", `echo s >> ${log}; sleep 0.5; echo e >> ${log}`],
      max_concurrency: "40%",
    });
    expect(reply.status, JSON.stringify(reply.body)).to.equal(202);
    expect(reply.body.results.map((r: { status: string }) => r.status)).to.deep.equal(HOSTS.map(() => "ok"));
    const events = (await readFile(log)).trim().split("\n");
    expect(events).to.have.length(10);
    let running = 0;
    let most = 0;
    for (const event of events) {
      running += event === "s" ? 1 : -1;
      most = Math.max(most, running);
    }
    // Never more than 2; and 2 indeed (the first two start together), not one by one.
    expect(most, events.join(" ")).to.equal(2);
  });

  it("stops at the error budget: with max_concurrency 1 and max_errors 1, two failures first leave the last three skipped, sorted", async () => {
    // Run one at a time in hostname order, the first two exit 1: the count in the file says how many ran.
    const counter = `/tmp/count-${Date.now()}`;
    const reply = await stack.exec("_all", box, {
      command: ["sh", "-c", `n=$(cat ${counter} 2>/dev/null || echo 0); echo $((n + 1)) > ${counter}; [ "$n" -ge 2 ]`],
      max_concurrency: 1,
      max_errors: "1",
    });
    expect(reply.status, JSON.stringify(reply.body)).to.equal(202);
    const results = reply.body.results as Array<Record<string, unknown>>;
    expect(results.map((r) => r.hostname)).to.deep.equal(HOSTS);
    expect(results.slice(0, 2).map((r) => [r.status, r.exit_code])).to.deep.equal([
      ["ok", 1],
      ["ok", 1],
    ]);
    for (const skipped of results.slice(2)) {
      expect(skipped).to.include({ status: "skipped", changed: false, error: "not started: 2 errors exceeded max_errors 1" });
      expect(skipped).not.to.have.property("exit_code");
    }
    expect((await readFile(counter)).trim()).to.equal("2");
  });

  it("counts skipped hosts in the stream's summary", async () => {
    const response = await fetch(`${stack.gatewayUrl}/node/_all/container/docker/${box}/exec?stream=true`, {
      method: "POST",
      headers: { authorization: `Bearer ${await stack.token()}`, "content-type": "application/json" },
      body: JSON.stringify({ command: ["false"], max_concurrency: 2, max_errors: 1 }),
    });
    const lines = (await response.text())
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    const summary = lines[lines.length - 1];
    // The first to fail (1, within budget) lets a third start; the second to fail (2 > 1) stops the rest.
    expect(summary).to.include({ type: "summary", targeted: 5, ok: 3, skipped: 2, cancelled: 0 });
  });

  it("refuses bad max_concurrency and max_errors with 400 naming the field", async () => {
    for (const field of ["max_concurrency", "max_errors"]) {
      for (const value of [0, -1, "0%", "150%", "ten", 1.5, "", true]) {
        const reply = await stack.exec("_all", box, { command: ["true"], [field]: value });
        const body = expectErrorShape(reply, 400);
        expect(body.details, `${field}=${JSON.stringify(value)}`).to.contain(field);
      }
    }
  });

  describe("cancel", () => {
    /** Starts an async job that keeps its first host busy with `sleep`, one host at a time. */
    async function startSleeper(seconds: number, token?: string): Promise<string> {
      const reply = await stack.exec("_all", box, { command: ["sleep", String(seconds)], max_concurrency: 1 }, { query: "async=true", token });
      expect(reply.status, JSON.stringify(reply.body)).to.equal(202);
      await waitFor("the first host's sleep", async () => (await containers.countRunning(box, `sleep ${seconds}`)) === 1);
      return reply.body.job_id;
    }

    it("kills the running host (cancelled), skips the rest, ends the job cancelled, and audits it; again is 409", async () => {
      const jobId = await startSleeper(31);
      const reply = await stack.request("POST", `/job/${jobId}/cancel`, { token: admin });
      expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
      expect(reply.body.status).to.equal("cancelled");
      const results = reply.body.results as Array<Record<string, unknown>>;
      expect(results.map((r) => [r.hostname, r.status])).to.deep.equal([["roll-a", "cancelled"], ...HOSTS.slice(1).map((h) => [h, "skipped"])]);
      expect(results[0]).not.to.have.property("exit_code");
      expect(results[1].error).to.equal("not started: the job was cancelled");
      await waitFor("the sleep killed", async () => (await containers.countRunning(box, "sleep 31")) === 0);

      expectErrorShape(await stack.request("POST", `/job/${jobId}/cancel`, { token: admin }), 409);
      // Both attempts audited, newest first: the refused one too.
      const audit = (await stack.request("GET", "/audit?limit=100", { token: admin })).body.entries;
      const cancels = audit.filter((e: { command: string[] }) => e.command.join(" ") === `job cancel ${jobId}`);
      expect(cancels.map((e: Record<string, unknown>) => [e.subject, e.job_id, e.http_status])).to.deep.equal([
        ["test", jobId, 409],
        ["test", jobId, 200],
      ]);
    });

    it("is 404 for an unknown job, and for another subject's without job:cancel; job:cancel cancels anyone's", async () => {
      expectErrorShape(await stack.request("POST", "/job/no-such-job/cancel", { token: admin }), 404);
      const jobId = await startSleeper(32);
      const stranger = await stack.token(["docker:execute"], 600_000, "stranger");
      expectErrorShape(await stack.request("POST", `/job/${jobId}/cancel`, { token: stranger }), 404);
      expectErrorShape(await stack.request("POST", `/job/${jobId}/cancel`, { token: await stack.token(["job:read"], 600_000, "test") }), 403);
      const operator = await stack.token(["job:cancel"], 600_000, "operator");
      const reply = await stack.request("POST", `/job/${jobId}/cancel`, { token: operator });
      expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
      expect(reply.body.status).to.equal("cancelled");
      await waitFor("the sleep killed", async () => (await containers.countRunning(box, "sleep 32")) === 0);
    });
  });
});
