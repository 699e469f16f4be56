import { Metadata, credentials, makeGenericClientConstructor, type Client, type ClientReadableStream } from "@grpc/grpc-js";
import { expect } from "chai";
import { service as healthService } from "grpc-health-check";
import { ExecServiceClient, type StreamExecContainerResponse } from "../../src/gen/meshexec/v1/exec.js";
import { TestContainers } from "../support/test-containers.js";
import { TestStack } from "../support/test-stack.js";
import { waitFor } from "../support/wait-for.js";

type HealthClient = Client & {
  check(req: { service: string }, cb: (err: Error | null, res: { status: string }) => void): void;
  watch(req: { service: string }): ClientReadableStream<{ status: string }>;
};
const Health = makeGenericClientConstructor(healthService, "grpc.health.v1.Health");

describe("service-mesh citizenship: streaming, trace context, health, readiness, metrics", function () {
  this.timeout(60_000);
  const containers = new TestContainers();
  let stack: TestStack;
  let box: string;
  let metricsPorts: { router: number; gateway: number; agent: number };

  before(async () => {
    [stack, box] = await Promise.all([
      TestStack.start([{ hostname: "m-a", args: ["--metrics-listen", "127.0.0.1:0"] }, { hostname: "m-b" }], {
        routerArgs: ["--metrics-listen", "127.0.0.1:0"],
        gatewayArgs: ["--metrics-listen", "127.0.0.1:0"],
      }),
      containers.start(),
    ]);
    metricsPorts = {
      router: await stack.router.listeningPort("metrics listening"),
      gateway: await stack.gateway.listeningPort("metrics listening"),
      agent: await stack.agents.get("m-a")!.listeningPort("metrics listening"),
    };
  });
  after(async () => {
    await stack?.stop();
    await containers.removeAll();
  });

  /** One host gets the lock and sleeps; the other finishes at once. */
  const oneSlowHost = (lock: string) => ["sh", "-c", `if mkdir /tmp/${lock} 2>/dev/null; then sleep 3; echo slow; else echo fast; fi`];
  const slowStillRunning = async () => (await containers.countRunning(box, "sleep 3")) > 0;

  it("streams NDJSON over REST: accepted, each host as it finishes, then a summary", async () => {
    const response = await fetch(`${stack.gatewayUrl}/node/_all/container/docker/${box}/exec?stream=true`, {
      method: "POST",
      headers: { authorization: `Bearer ${await stack.token()}`, "content-type": "application/json" },
      body: JSON.stringify({ command: oneSlowHost("rest-lock") }),
    });
    expect(response.status).to.equal(200);
    expect(response.headers.get("content-type")).to.match(/application\/x-ndjson/);
    const lines: any[] = [];
    let buffered = "";
    let slowWasRunningAtFirstResult: boolean | undefined;
    for await (const chunk of response.body!) {
      buffered += Buffer.from(chunk).toString();
      for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
        const line = JSON.parse(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
        // Live output is live-output.spec.ts's business.
        if (line.type === "output") continue;
        if (line.type === "result" && slowWasRunningAtFirstResult === undefined) slowWasRunningAtFirstResult = await slowStillRunning();
        lines.push(line);
      }
    }
    expect(lines.map((l) => l.type)).to.deep.equal(["accepted", "result", "result", "summary"]);
    expect(lines[0].hosts).to.deep.equal(["m-a", "m-b"]);
    expect(lines[1].result.stdout).to.equal("fast\n");
    expect(lines[2].result.stdout).to.equal("slow\n");
    // The fast host's line was in hand while the slow host was still running.
    expect(slowWasRunningAtFirstResult).to.equal(true);
    expect(lines[3]).to.deep.equal({ type: "summary", job_id: lines[0].job_id, targeted: 2, ok: 2, failed: 0, timeout: 0, skipped: 0, cancelled: 0 });
  });

  it("answers a refused streamed exec with its status and the error shape", async () => {
    const reply = await stack.exec("nobody", box, { command: ["true"] }, { query: "stream=true" });
    expect(reply.status).to.equal(404);
    expect(reply.body).to.include({ error: "no agent matches the target", code: 404 });
    expect((await stack.exec("_all", box, { command: ["true"] }, { query: "stream=true&async=true" })).status).to.equal(400);
  });

  it("streams over gRPC with StreamExecContainer", async () => {
    const client = new ExecServiceClient(stack.routerAddress, credentials.createInsecure());
    const metadata = new Metadata();
    metadata.set("authorization", `Bearer ${await stack.token()}`);
    const call = client.streamExecContainer({ target: "_all", containerId: box, command: oneSlowHost("grpc-lock"), env: [], workingDir: "" }, metadata);
    const events: StreamExecContainerResponse[] = [];
    for await (const event of call) events.push(event);
    client.close();
    const cases = events.map((e) => e.event?.$case);
    expect(cases.filter((c) => c !== "output")).to.deep.equal(["accepted", "result", "result", "summary"]);
    // Each host's output, as its command wrote it, comes before that host's result.
    for (const [i, e] of events.entries()) {
      if (e.event?.$case !== "output") continue;
      const { hostname } = e.event.value;
      expect(events.findIndex((r) => r.event?.$case === "result" && r.event.value.hostname === hostname)).to.be.greaterThan(i);
    }
    expect(cases.filter((c) => c === "output")).to.have.length(2);
    const summary = events[events.length - 1].event;
    expect(summary?.$case === "summary" && summary.value).to.include({ targeted: 2, ok: 2 });
  });

  it("continues the caller's trace: echoes it, and every process logs the request id and trace id", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const requestId = `trace-test-${Date.now()}`;
    const reply = await stack.exec(
      "m-a",
      box,
      { command: ["true"] },
      { headers: { "x-request-id": requestId, traceparent: `00-${traceId}-00f067aa0ba902b7-01` } },
    );
    expect(reply.status).to.equal(202);
    expect(reply.headers.get("x-request-id")).to.equal(requestId);
    expect(reply.headers.get("traceparent")).to.match(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    for (const process of [stack.gateway, stack.router, stack.agents.get("m-a")!]) {
      await process.waitForLog(
        process === stack.gateway ? "request" : process === stack.router ? "exec" : "exec finished",
        (l) => l.requestId === requestId && l.traceId === traceId,
      );
    }
  });

  it("makes a request id and a trace when the caller sends none", async () => {
    const reply = await stack.exec("m-a", box, { command: ["true"] });
    expect(reply.headers.get("x-request-id")).to.match(/^[0-9a-f-]{36}$/);
    expect(reply.headers.get("traceparent")).to.match(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it("implements grpc.health.v1 Check and Watch, for the server and each service", async () => {
    const health = new Health(stack.routerAddress, credentials.createInsecure()) as unknown as HealthClient;
    const check = (service: string) =>
      new Promise<string>((resolve, reject) => health.check({ service }, (err, res) => (err ? reject(err) : resolve(res.status))));
    for (const service of [
      "",
      "meshexec.v1.ExecService",
      "meshexec.v1.AgentService",
      "meshexec.v1.JobService",
      "meshexec.v1.AuditService",
      "meshexec.agents",
    ]) {
      expect(await check(service), service).to.equal("SERVING");
    }
    const watch = health.watch({ service: "meshexec.v1.ExecService" });
    watch.on("error", () => {}); // cancelling it below ends it with CANCELLED
    const first = await new Promise<{ status: string }>((resolve) => watch.once("data", resolve));
    expect(first.status).to.equal("SERVING");
    watch.cancel();
    health.close();
  });

  it("is ready with an agent, not ready without one, and ready on router reachability alone when so configured", async () => {
    expect((await stack.request("GET", "/ready")).status).to.equal(200);
    const empty = await TestStack.start([]);
    const lenient = await TestStack.start([], { gatewayArgs: ["--ready-when", "router-reachable"] });
    try {
      const notReady = await empty.request("GET", "/ready");
      expect(notReady.status).to.equal(503);
      expect(notReady.body).to.include({ error: "not ready", code: 503 });
      expect(notReady.body.details).to.match(/no agent/);
      expect((await lenient.request("GET", "/ready")).status).to.equal(200);
      await empty.startAgent({ hostname: "late" });
      await waitFor("/ready once an agent connects", async () => (await empty.request("GET", "/ready")).status === 200);
    } finally {
      await Promise.all([empty.stop(), lenient.stop()]);
    }
  });

  it("serves Prometheus metrics from the router, the edge and the agent", async () => {
    await stack.exec("_all", box, { command: ["true"] });
    const scrape = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const router = await scrape(metricsPorts.router);
    expect(router).to.match(/grpc_server_started_total\{grpc_type="unary",grpc_service="meshexec\.v1\.ExecService",grpc_method="ExecContainer"\} \d+/);
    expect(router).to.match(/grpc_server_handled_total\{[^}]*grpc_method="ExecContainer",grpc_code="OK"\} \d+/);
    expect(router).to.match(/grpc_server_started_total\{grpc_type="bidi_stream",grpc_service="meshexec\.v1\.AgentService",grpc_method="Connect"\} [1-9]/);
    expect(router).to.match(/grpc_server_handling_seconds_bucket\{[^}]*grpc_method="ExecContainer"/);
    expect(router).to.match(/meshexec_agents_connected 2/);
    expect(router).to.match(/meshexec_exec_total\{status="ok"\} [1-9]/);
    expect(router).to.match(/meshexec_exec_duration_seconds_count\{status="ok"\} [1-9]/);
    expect(router).to.match(/meshexec_fanout_hosts_bucket\{le="2"\} [1-9]/);
    const edge = await scrape(metricsPorts.gateway);
    expect(edge).to.match(
      /http_requests_total\{method="POST",route="\/node\/:hostname\{\[\^\/\]\*\}\/container\/docker\/:id\{\[\^\/\]\*\}\/exec",code="202"\} [1-9]/,
    );
    expect(edge).to.match(/http_request_duration_seconds_count\{method="POST",route="\/node\/.*",code="202"\} [1-9]/);
    const agent = await scrape(metricsPorts.agent);
    expect(agent).to.match(/meshexec_agent_execs_total\{outcome="ok"\} [1-9]/);
    expect(agent).to.match(/meshexec_agent_router_connected 1/);
    expect(agent).to.match(/process_resident_memory_bytes \d+/);
  });
});
