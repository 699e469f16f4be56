import { expect } from "chai";
import { GrpcCaller } from "../support/grpc-exec.js";
import { NginxGrpcProxy } from "../support/nginx-grpc-proxy.js";
import { TestContainers } from "../support/test-containers.js";
import { TestStack } from "../support/test-stack.js";
import { waitFor } from "../support/wait-for.js";

describe("behind nginx (grpc_pass between the agents, the edge, a gRPC caller and the router)", function () {
  this.timeout(60_000);
  // Short on purpose: every idle timeout nginx applies to a stream, so an idle agent stream would be cut within this.
  const PROXY_IDLE_SECONDS = 3;
  const HOSTS = ["node-a", "node-b"];
  const containers = new TestContainers();
  let proxy: NginxGrpcProxy;
  let stack: TestStack;
  let box: string;

  before(async () => {
    [stack, box] = await Promise.all([
      TestStack.start(
        HOSTS.map((hostname) => ({ hostname })),
        {
          routerArgs: ["--heartbeat-interval", "1s"],
          routerAddressForClients: async (routerAddress) => {
            proxy = await NginxGrpcProxy.start(routerAddress, { idleSeconds: PROXY_IDLE_SECONDS });
            return proxy.address;
          },
        },
      ),
      containers.start(),
    ]);
  });
  after(async () => {
    await stack?.stop();
    await proxy?.kill();
    await containers.removeAll();
  });

  const agentSessions = async () => {
    const reply = await stack.request("GET", "/agents", { token: await stack.token(["agent:read"]) });
    expect(reply.status).to.equal(200);
    return Object.fromEntries(reply.body.agents.map((a: { hostname: string; connected_since: string }) => [a.hostname, a.connected_since]));
  };

  it("connects every agent to the router through nginx", () => {
    for (const hostname of HOSTS) {
      const connected = stack.agents.get(hostname)!.logs.find((line) => line.msg === "connected to router");
      expect(connected?.router, hostname).to.equal(proxy.address);
    }
  });

  it("runs _all through an edge whose router address is nginx, stdout and stderr apart, with exit codes", async () => {
    const reply = await stack.exec("_all", box, { command: ["sh", "-c", "echo out; echo err >&2; exit 5"] });
    expect(reply.status).to.equal(202);
    expect(reply.body.results.map((r: { hostname: string }) => r.hostname)).to.deep.equal(HOSTS);
    reply.body.results.forEach((r: unknown) => expect(r).to.include({ status: "ok", stdout: "out\n", stderr: "err\n", exit_code: 5, changed: true }));
  });

  it("returns 1 MB of output whole through nginx, to the edge and to a direct gRPC caller", async () => {
    const command = ["sh", "-c", "yes 0123456789abcdef | head -c 1000000"];
    const expected = "0123456789abcdef\n".repeat(58824).slice(0, 1_000_000);
    const viaEdge = await stack.exec("node-a", box, { command });
    expect(viaEdge.body.results[0].stdout === expected, "the edge's stdout").to.equal(true);
    const caller = new GrpcCaller(proxy.address);
    try {
      const viaGrpc = await caller.exec({ target: "node-b", containerId: box, command }, await stack.token());
      expect(viaGrpc.message).to.equal("");
      expect(viaGrpc.response!.results[0].stdout === expected, "the gRPC caller's stdout").to.equal(true);
    } finally {
      caller.close();
    }
  });

  it("serves a direct gRPC caller through nginx, errors and their trailers included", async () => {
    const caller = new GrpcCaller(proxy.address);
    try {
      const ok = await caller.exec({ target: "_all", containerId: box, command: ["sh", "-c", "echo hi; exit 2"] }, await stack.token());
      expect(ok.response!.results.map((r) => [r.hostname, r.stdout, r.exitCode])).to.deep.equal([
        ["node-a", "hi\n", 2],
        ["node-b", "hi\n", 2],
      ]);
      const refused = await caller.exec({ target: "no-such-host", containerId: box, command: ["true"] }, await stack.token());
      expect(refused).to.include({ code: 5, error: "no agent matches the target" });
    } finally {
      caller.close();
    }
  });

  it("keeps an idle agent stream open past nginx's timeouts, since heartbeats cross it both ways", async () => {
    const before = await agentSessions();
    const routerLogsBefore = stack.router.logs.length;
    // Idleness for longer than the proxy allows is what this test is about, not a wait for an event.
    await new Promise((resolve) => setTimeout(resolve, 2.5 * PROXY_IDLE_SECONDS * 1000));
    expect(stack.router.logs.slice(routerLogsBefore).filter((line) => line.msg === "agent disconnected")).to.deep.equal([]);
    expect(await agentSessions()).to.deep.equal(before);
    const reply = await stack.exec("_all", box, { command: ["echo", "still here"] });
    reply.body.results.forEach((r: unknown) => expect(r).to.include({ status: "ok", stdout: "still here\n" }));
  });

  it("reconnects the agents by themselves when nginx is killed and started again on the same port", async () => {
    const routerLogsBefore = stack.router.logs.length;
    await proxy.kill();
    await waitFor("the router to see both agents go", () =>
      HOSTS.every((hostname) => stack.router.logs.slice(routerLogsBefore).some((line) => line.msg === "agent disconnected" && line.hostname === hostname)),
    );
    await proxy.start();
    await stack.waitForAgents(HOSTS, 20_000);
    const reply = await stack.exec("_all", box, { command: ["echo", "back"] });
    expect(reply.status).to.equal(202);
    reply.body.results.forEach((r: unknown) => expect(r).to.include({ status: "ok", stdout: "back\n" }));
  });
});
