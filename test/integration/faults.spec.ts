import { Metadata, credentials, status, type ServiceError } from "@grpc/grpc-js";
import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExecServiceClient, type ExecContainerRequest, type ExecContainerResponse } from "../../src/gen/meshexec/v1/exec.js";
import { DockerSocketProxy } from "../support/docker-socket-proxy.js";
import { TestContainers } from "../support/test-containers.js";
import { TestStack, type HttpReply } from "../support/test-stack.js";
import { waitFor } from "../support/wait-for.js";

type Result = { hostname: string; status: string; stdout: string; stderr: string; exit_code?: number; changed: boolean; error: string };

/** Every targeted host appears exactly once, in hostname order. */
function expectHosts(reply: HttpReply, hostnames: string[]): Result[] {
  expect(reply.status, JSON.stringify(reply.body)).to.equal(202);
  expect(reply.body.results.map((r: Result) => r.hostname)).to.deep.equal(hostnames);
  return reply.body.results;
}

describe("exec under faults", function () {
  this.timeout(90_000);
  const containers = new TestContainers();
  after(() => containers.removeAll());

  const runningIn = async (box: string, needle: string) => (await containers.countRunning(box, needle)) > 0;
  const waitUntilRunning = (box: string, needle: string) => waitFor(`"${needle}" to run in ${box}`, () => runningIn(box, needle));
  const waitUntilGone = (box: string, needle: string) => waitFor(`"${needle}" to be gone from ${box}`, async () => !(await runningIn(box, needle)), 15_000);

  describe("time limits, output caps and streams that outlive the process", () => {
    let stack: TestStack;
    let box: string;
    before(async () => {
      [stack, box] = await Promise.all([TestStack.start([{ hostname: "t-a" }, { hostname: "t-b", args: ["--output-limit", "65536"] }]), containers.start()]);
    });
    after(() => stack?.stop());

    it("kills a command at its time limit, keeps its output, and leaves no process behind", async () => {
      const reply = await stack.exec("t-a", box, { command: ["sh", "-c", "echo before; exec sleep 301"], timeout_seconds: 1 });
      const [result] = expectHosts(reply, ["t-a"]);
      expect(result).to.include({ status: "timeout", stdout: "before\n", changed: true }).and.not.have.property("exit_code");
      expect(result.error).to.match(/timed out/);
      await waitUntilGone(box, "sleep 301");
    });

    it("kills the whole process tree, not just the shell", async () => {
      const reply = await stack.exec("t-a", box, { command: ["sh", "-c", "sleep 302; echo never"], timeout_seconds: 1 });
      expect(expectHosts(reply, ["t-a"])[0].status).to.equal("timeout");
      await waitUntilGone(box, "sleep 302");
    });

    it("times out every host of an _all, each exactly once", async () => {
      const reply = await stack.exec("_all", box, { command: ["sleep", "303"], timeout_seconds: 1 });
      expectHosts(reply, ["t-a", "t-b"]).forEach((r) => expect(r.status).to.equal("timeout"));
      await waitUntilGone(box, "sleep 303");
    });

    it("caps stdout at 1 MiB by default, reading on to the end", async () => {
      const reply = await stack.exec("t-a", box, { command: ["sh", "-c", "yes | head -c 5000000; echo done >&2"] });
      const [result] = expectHosts(reply, ["t-a"]);
      expect(result).to.include({ status: "ok", exit_code: 0, stderr: "done\n" });
      expect(result.stdout).to.have.length(1024 * 1024);
      expect(reply.body.results[0]).to.include({ stdout_truncated: true, stderr_truncated: false });
    });

    it("caps stderr at the agent's configured limit", async () => {
      const reply = await stack.exec("t-b", box, { command: ["sh", "-c", "yes | head -c 5000000 >&2"] });
      const [result] = expectHosts(reply, ["t-b"]);
      expect(result.stderr).to.have.length(65536);
      expect(reply.body.results[0]).to.include({ status: "ok", exit_code: 0, stderr_truncated: true, stdout_truncated: false });
    });

    it("returns when the process exits even though a background child holds stdout open", async () => {
      const reply = await stack.exec("t-a", box, { command: ["sh", "-c", "sleep 304 & echo started"], timeout_seconds: 30 });
      expect(expectHosts(reply, ["t-a"])[0]).to.include({ status: "ok", exit_code: 0, stdout: "started\n" });
    });

    it("caps a gRPC caller's time limit by the call's deadline", async () => {
      const client = new ExecServiceClient(stack.routerAddress, credentials.createInsecure());
      const metadata = new Metadata();
      metadata.set("authorization", `Bearer ${await stack.token()}`);
      const request: ExecContainerRequest = { target: "t-a", containerId: box, command: ["sleep", "305"], env: [], workingDir: "", timeoutSeconds: 60 };
      const response = await new Promise<ExecContainerResponse>((resolve, reject) =>
        client.execContainer(request, metadata, { deadline: Date.now() + 3_000 }, (err: ServiceError | null, res: ExecContainerResponse) =>
          err ? reject(err) : resolve(res),
        ),
      );
      client.close();
      expect(response.results.map((r) => r.status)).to.deep.equal(["timeout"]);
      await waitUntilGone(box, "sleep 305");
    });
  });

  describe("containers that stop", () => {
    let stack: TestStack;
    let box: string;
    before(async () => {
      [stack, box] = await Promise.all([TestStack.start([{ hostname: "s-a" }, { hostname: "s-b" }]), containers.start()]);
    });
    after(() => stack?.stop());

    it("answers 409 for one host and failed entries for _all once the container is stopped", async () => {
      expect(expectHosts(await stack.exec("s-a", box, { command: ["true"] }), ["s-a"])[0].status).to.equal("ok");
      await containers.docker.getContainer(box).stop({ t: 0 });

      const single = await stack.exec("s-a", box, { command: ["true"] });
      expect(single.status).to.equal(409);
      expect(single.body).to.include({ error: "container not running", code: 409 });

      expectHosts(await stack.exec("_all", box, { command: ["true"] }), ["s-a", "s-b"]).forEach((r) =>
        expect(r).to.include({ status: "failed", changed: false }).and.not.have.property("exit_code"),
      );
    });
  });

  describe("agents that are lost mid-exec", () => {
    let stack: TestStack;
    let box: string;
    before(async () => {
      [stack, box] = await Promise.all([TestStack.start([{ hostname: "l-a" }, { hostname: "l-b" }]), containers.start()]);
    });
    after(() => stack?.stop());

    it("completes the lost host at once as 'agent disconnected', never retries, and takes the agent back when it returns", async () => {
      const marker = `/tmp/runs-${randomUUID()}`;
      const pending = stack.exec("_all", box, { command: ["sh", "-c", `echo run >> ${marker}; sleep 306`], timeout_seconds: 3 });
      await waitFor("both execs to run", async () => (await containers.countRunning(box, "sleep 306")) === 2);
      await stack.agents.get("l-a")!.stop("SIGKILL");
      const results = expectHosts(await pending, ["l-a", "l-b"]);
      expect(results[0]).to.include({ status: "failed", error: "agent disconnected", changed: false });
      expect(results[1].status).to.equal("timeout");

      // One line per host: each host ran it exactly once, and the lost one was not retried.
      const count = await stack.exec("l-b", box, { command: ["wc", "-l", marker] });
      expect(count.body.results[0].stdout.trim()).to.equal(`2 ${marker}`);

      await stack.startAgent({ hostname: "l-a" });
      expect(expectHosts(await stack.exec("l-a", box, { command: ["echo", "back"] }), ["l-a"])[0].stdout).to.equal("back\n");
    });

    it("notices a frozen agent through keepalive and fails its exec", async () => {
      const frozen = await stack.startAgent({ hostname: "l-frozen", args: ["--keepalive", "1s"] });
      await stack.router.stop("SIGKILL");
      await stack.startRouter(stack.routerPort, ["--keepalive", "1s"]);
      await stack.waitForAgents(["l-b", "l-frozen"], 15_000);

      const pending = stack.exec("l-frozen", box, { command: ["sleep", "307"], timeout_seconds: 30 });
      await waitUntilRunning(box, "sleep 307");
      frozen.child.kill("SIGSTOP");
      try {
        const [result] = expectHosts(await pending, ["l-frozen"]);
        expect(result).to.include({ status: "failed", error: "agent disconnected" });
        expect(await stack.connectedAgents()).to.not.include("l-frozen");
      } finally {
        frozen.child.kill("SIGCONT");
      }
      await stack.waitForAgents(["l-frozen"], 15_000);
    });
  });

  describe("a router that restarts", () => {
    let stack: TestStack;
    let box: string;
    before(async () => {
      [stack, box] = await Promise.all([TestStack.start([{ hostname: "r-a" }, { hostname: "r-b" }]), containers.start()]);
    });
    after(() => stack?.stop());

    it("gets every agent back, serving, with no operator action", async () => {
      await stack.router.stop("SIGKILL");
      const down = await stack.exec("_all", box, { command: ["true"] });
      expect(down.status).to.equal(503);
      await stack.startRouter(stack.routerPort);
      await stack.waitForAgents(["r-a", "r-b"], 15_000);
      expectHosts(await stack.exec("_all", box, { command: ["echo", "ok"] }), ["r-a", "r-b"]).forEach((r) => expect(r.stdout).to.equal("ok\n"));
    });
  });

  describe("a node whose Docker engine goes away", () => {
    const proxy = new DockerSocketProxy(join(tmpdir(), `meshexec-docker-${randomUUID().slice(0, 8)}.sock`));
    let stack: TestStack;
    let box: string;
    before(async () => {
      await proxy.up();
      [stack, box] = await Promise.all([TestStack.start([{ hostname: "e-a", args: ["--docker-socket", proxy.path] }]), containers.start()]);
    });
    after(async () => {
      await stack?.stop();
      await proxy.down();
    });

    it("fails that host with a clear error, stays connected, and recovers when the engine returns", async () => {
      expect(expectHosts(await stack.exec("e-a", box, { command: ["true"] }), ["e-a"])[0].status).to.equal("ok");
      await proxy.down();
      const [result] = expectHosts(await stack.exec("e-a", box, { command: ["true"] }), ["e-a"]);
      expect(result).to.include({ status: "failed", changed: false });
      expect(result.error).to.match(/Docker engine is unavailable/);
      expect(await stack.connectedAgents()).to.include("e-a");
      await proxy.up();
      expect(expectHosts(await stack.exec("e-a", box, { command: ["echo", "again"] }), ["e-a"])[0].stdout).to.equal("again\n");
    });
  });

  describe("callers that go away", () => {
    let stack: TestStack;
    let box: string;
    before(async () => {
      [stack, box] = await Promise.all([TestStack.start([{ hostname: "c-a" }]), containers.start()]);
    });
    after(() => stack?.stop());

    it("kills the command when the HTTP client disconnects", async () => {
      const abort = new AbortController();
      const request = fetch(`${stack.gatewayUrl}/node/c-a/container/docker/${box}/exec`, {
        method: "POST",
        headers: { authorization: `Bearer ${await stack.token()}`, "content-type": "application/json" },
        body: JSON.stringify({ command: ["sleep", "308"] }),
        signal: abort.signal,
      }).catch((err) => err);
      await waitUntilRunning(box, "sleep 308");
      abort.abort();
      expect(await request).to.be.instanceOf(Error);
      await waitUntilGone(box, "sleep 308");
    });

    it("kills the command when a gRPC caller cancels", async () => {
      const client = new ExecServiceClient(stack.routerAddress, credentials.createInsecure());
      const metadata = new Metadata();
      metadata.set("authorization", `Bearer ${await stack.token()}`);
      const request: ExecContainerRequest = { target: "c-a", containerId: box, command: ["sleep", "309"], env: [], workingDir: "" };
      let code: status | undefined;
      const call = client.execContainer(request, metadata, (err: ServiceError | null) => (code = err?.code));
      await waitUntilRunning(box, "sleep 309");
      call.cancel();
      await waitUntilGone(box, "sleep 309");
      client.close();
      expect(code).to.equal(status.CANCELLED);
    });
  });

  describe("an agent at its concurrency limit", () => {
    let stack: TestStack;
    let box: string;
    before(async () => {
      [stack, box] = await Promise.all([TestStack.start([{ hostname: "q-a", args: ["--max-in-flight", "1", "--max-queued", "1"] }]), containers.start()]);
    });
    after(() => stack?.stop());

    it("runs one, queues one, and refuses the next with 429 instead of hanging", async () => {
      const first = stack.exec("q-a", box, { command: ["sleep", "2"] });
      await waitUntilRunning(box, "sleep 2");
      const queued = stack.exec("q-a", box, { command: ["echo", "queued"] });
      await waitFor("the second exec to be queued", async () => {
        const agents = (await stack.request("GET", "/agents", { token: await stack.token() })).body.agents;
        return agents[0].in_flight === 2;
      });
      const refused = await stack.exec("q-a", box, { command: ["echo", "refused"] });
      expect(refused.status).to.equal(429);
      expect(refused.body).to.include({ error: "agent overloaded", code: 429 });
      expect(expectHosts(await first, ["q-a"])[0].status).to.equal("ok");
      expect(expectHosts(await queued, ["q-a"])[0].stdout).to.equal("queued\n");
    });
  });

  describe("graceful shutdown on SIGTERM", () => {
    let stack: TestStack;
    let box: string;
    beforeEach(async () => {
      [stack, box] = await Promise.all([TestStack.start([{ hostname: "g-a" }, { hostname: "g-b" }]), containers.start()]);
    });
    afterEach(() => stack?.stop());

    it("an agent finishes its running exec, reports it, takes no new ones, and exits 0", async () => {
      const running = stack.exec("g-a", box, { command: ["sh", "-c", "sleep 2; echo finished"] });
      await waitUntilRunning(box, "sleep 2");
      const agent = stack.agents.get("g-a")!;
      agent.child.kill("SIGTERM");
      await waitFor("g-a to be draining", async () => {
        const agents = (await stack.request("GET", "/agents", { token: await stack.token() })).body.agents;
        return agents.find((a: { hostname: string; draining: boolean }) => a.hostname === "g-a")?.draining;
      });
      const refused = await stack.exec("g-a", box, { command: ["true"] });
      expect(refused.status).to.equal(503);
      for (let i = 0; i < 3; i++) expect(expectHosts(await stack.exec("_any", box, { command: ["true"] }), ["g-b"]));
      const finished = expectHosts(await running, ["g-a"])[0];
      expect(finished, JSON.stringify(finished)).to.include({ status: "ok", stdout: "finished\n" });
      expect(await agent.exited).to.deep.equal({ code: 0, signal: null });
    });

    it("the router reports NOT_SERVING, finishes its running exec, and exits 0", async () => {
      const running = stack.exec("g-a", box, { command: ["sh", "-c", "sleep 2; echo finished"] });
      await waitUntilRunning(box, "sleep 2");
      stack.router.child.kill("SIGTERM");
      await waitFor("the edge to see the router not serving", async () => (await stack.request("GET", "/health")).status === 503);
      expect(expectHosts(await running, ["g-a"])[0]).to.include({ status: "ok", stdout: "finished\n" });
      expect(await stack.router.exited).to.deep.equal({ code: 0, signal: null });
    });

    it("the edge finishes its running request and exits 0", async () => {
      const running = stack.exec("g-a", box, { command: ["sh", "-c", "sleep 2; echo finished"] });
      await waitUntilRunning(box, "sleep 2");
      stack.gateway.child.kill("SIGTERM");
      expect(expectHosts(await running, ["g-a"])[0]).to.include({ status: "ok", stdout: "finished\n" });
      expect(await stack.gateway.exited).to.deep.equal({ code: 0, signal: null });
    });
  });
});
