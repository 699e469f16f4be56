import { Metadata, credentials, type ServiceError } from "@grpc/grpc-js";
import { expect } from "chai";
import { ExecServiceClient, type ExecContainerRequest, type ExecContainerResponse } from "../../src/gen/meshexec/v1/exec.js";
import { NginxGrpcProxy } from "../support/nginx-grpc-proxy.js";
import { TestContainers } from "../support/test-containers.js";
import { TestStack } from "../support/test-stack.js";

/**
 * The suite runs twice: with the edge, the agents and the gRPC caller dialling the router
 * directly, and with Debian's nginx (grpc_pass, http2) between all of them and the router.
 */
const ways = [
  { name: "direct", viaNginx: false },
  { name: "through nginx", viaNginx: true },
];

for (const way of ways)
  describe(`exec, end to end (router, edge, three agents, real Docker), ${way.name}`, function () {
    this.timeout(60_000);
    const containers = new TestContainers();
    let stack: TestStack;
    let proxy: NginxGrpcProxy | undefined;
    let box: string;

    before(async () => {
      [stack, box] = await Promise.all([
        TestStack.start(
          [
            { hostname: "node-a", labels: { role: "web", zone: "east" } },
            { hostname: "node-b", labels: { role: "web", zone: "west" } },
            { hostname: "node-c", labels: { role: "db", zone: "east" } },
          ],
          way.viaNginx ? { routerAddressForClients: async (router) => (proxy = await NginxGrpcProxy.start(router, { idleSeconds: 60 })).address } : {},
        ),
        containers.start(),
      ]);
    });
    after(async () => {
      await stack?.stop();
      await proxy?.kill();
      await containers.removeAll();
    });

    const hostsOf = (body: { results: Array<{ hostname: string }> }) => body.results.map((r) => r.hostname);

    it(`has every agent dial the router ${way.name}`, () => {
      expect(stack.routerAddressForClients !== stack.routerAddress).to.equal(way.viaNginx);
      for (const [hostname, agent] of stack.agents) {
        expect(agent.logs.find((line) => line.msg === "connected to router")?.router, hostname).to.equal(stack.routerAddressForClients);
      }
    });

    it("runs on an exact hostname and answers 202 with one result", async () => {
      const reply = await stack.exec("node-b", box, { command: ["echo", "hi"] });
      expect(reply.status).to.equal(202);
      expect(reply.body.job_id).to.match(/^[0-9a-f-]{36}$/);
      expect(reply.body.results).to.have.length(1);
      expect(reply.body.results[0]).to.include({ hostname: "node-b", status: "ok", stdout: "hi\n", stderr: "", exit_code: 0, changed: true, error: "" });
      expect(reply.body.results[0].duration_ms).to.be.a("number");
    });

    it("runs _any on exactly one agent, and spreads successive calls over several", async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) {
        const reply = await stack.exec("_any", box, { command: ["true"] });
        expect(reply.status).to.equal(202);
        expect(reply.body.results).to.have.length(1);
        seen.add(reply.body.results[0].hostname);
      }
      expect(seen.size).to.be.greaterThan(1);
    });

    it("runs _all on every agent, one result each, sorted by hostname", async () => {
      const reply = await stack.exec("_all", box, { command: ["echo", "x"] });
      expect(reply.status).to.equal(202);
      expect(hostsOf(reply.body)).to.deep.equal(["node-a", "node-b", "node-c"]);
      reply.body.results.forEach((r: { status: string; stdout: string }) => expect(r).to.include({ status: "ok", stdout: "x\n" }));
    });

    it("runs a key:value label selector on exactly the agents carrying that label", async () => {
      expect(hostsOf((await stack.exec("role:web", box, { command: ["true"] })).body)).to.deep.equal(["node-a", "node-b"]);
      expect(hostsOf((await stack.exec("zone:east", box, { command: ["true"] })).body)).to.deep.equal(["node-a", "node-c"]);
      expect(hostsOf((await stack.exec("role:db", box, { command: ["true"] })).body)).to.deep.equal(["node-c"]);
    });

    it("keeps stdout and stderr apart and reports a non-zero exit code as ran", async () => {
      const reply = await stack.exec("node-a", box, { command: ["sh", "-c", "echo out; echo err >&2; exit 7"] });
      expect(reply.status).to.equal(202);
      expect(reply.body.results[0]).to.include({ status: "ok", stdout: "out\n", stderr: "err\n", exit_code: 7, changed: true });
    });

    it("passes argv as is, without a shell splitting it", async () => {
      const reply = await stack.exec("node-a", box, { command: ["printf", "%s|", "a b", "c,d", "$HOME"] });
      expect(reply.body.results[0].stdout).to.equal("a b|c,d|$HOME|");
    });

    it("applies env and working_dir", async () => {
      // Upper-cased, because the values themselves are masked in what comes back (abuse.spec.ts).
      const reply = await stack.exec("node-a", box, {
        command: ["sh", "-c", 'echo "$GREETING $WHO" | tr a-z A-Z; pwd'],
        env: ["GREETING=hello", "WHO=a=b c"],
        working_dir: "/tmp",
      });
      expect(reply.body.results[0].stdout).to.equal("HELLO A=B C\n/tmp\n");
    });

    it("reports a missing binary faithfully: exit code 126 with the OCI error", async () => {
      const reply = await stack.exec("node-a", box, { command: ["no-such-binary"] });
      expect(reply.status).to.equal(202);
      const result = reply.body.results[0];
      expect(result).to.include({ status: "ok", exit_code: 126, changed: true });
      expect(result.stdout + result.stderr).to.match(/no-such-binary.*not found/);
    });

    it("returns 1 MB of output whole", async () => {
      const reply = await stack.exec("node-c", box, { command: ["sh", "-c", "yes 0123456789abcdef | head -c 1000000"] });
      const result = reply.body.results[0];
      expect(result.stdout).to.have.length(1_000_000);
      expect(result.stdout).to.equal("0123456789abcdef\n".repeat(58824).slice(0, 1_000_000));
      expect(result.stdout_truncated).to.equal(false);
    });

    it("answers 20 concurrent requests, each with its own output", async () => {
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) => stack.exec(["node-a", "node-b", "node-c", "_any"][i % 4], box, { command: ["echo", `request-${i}`] })),
      );
      replies.forEach((reply, i) => {
        expect(reply.status).to.equal(202);
        expect(reply.body.results).to.have.length(1);
        expect(reply.body.results[0]).to.include({ status: "ok", stdout: `request-${i}\n` });
      });
      expect(new Set(replies.map((r) => r.body.job_id)).size).to.equal(20);
    });

    it("serves the same call directly over gRPC", async () => {
      const client = new ExecServiceClient(stack.routerAddressForClients, credentials.createInsecure());
      const metadata = new Metadata();
      metadata.set("authorization", `Bearer ${await stack.token()}`);
      const request: ExecContainerRequest = {
        target: "role:web",
        containerId: box,
        command: ["sh", "-c", "echo out; echo err >&2; exit 3"],
        env: [],
        workingDir: "",
      };
      const response = await new Promise<ExecContainerResponse>((resolve, reject) =>
        client.execContainer(request, metadata, (err: ServiceError | null, res: ExecContainerResponse) => (err ? reject(err) : resolve(res))),
      );
      client.close();
      expect(response.jobId).to.match(/^[0-9a-f-]{36}$/);
      expect(response.results.map((r) => r.hostname)).to.deep.equal(["node-a", "node-b"]);
      response.results.forEach((r) => expect(r).to.include({ status: "ok", stdout: "out\n", stderr: "err\n", exitCode: 3, changed: true }));
    });

    it("lists the connected agents with their labels", async () => {
      const reply = await stack.request("GET", "/agents", { token: await stack.token(["agent:read"]) });
      expect(reply.status).to.equal(200);
      const nodeA = reply.body.agents.find((a: { hostname: string }) => a.hostname === "node-a");
      expect(nodeA.labels).to.deep.equal({ role: "web", zone: "east" });
      expect(Date.parse(nodeA.connected_since)).to.be.closeTo(Date.now(), 120_000);
      expect(nodeA.in_flight).to.equal(0);
    });

    it("answers /health with 200 while the router is up", async () => {
      const reply = await stack.request("GET", "/health");
      expect(reply.status).to.equal(200);
    });
  });
