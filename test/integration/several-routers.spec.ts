import { Metadata, credentials, status } from "@grpc/grpc-js";
import { expect } from "chai";
import { ExecServiceClient } from "../../src/gen/meshexec/v1/exec.js";
import { JobServiceClient, type Job } from "../../src/gen/meshexec/v1/jobs.js";
import { MeshStack, type MeshAgentSpec } from "../support/mesh-stack.js";
import { MeshexecProcess } from "../support/meshexec-process.js";
import { NatsServer } from "../support/nats-server.js";
import { TestPostgres } from "../support/postgres.js";
import { TestContainers } from "../support/test-containers.js";
import { waitFor } from "../support/wait-for.js";

const ROUTERS = ["r1", "r2", "r3"];
const AGENTS: MeshAgentSpec[] = [
  { hostname: "mesh-a1", home: "r1", labels: { role: "web", zone: "east" } },
  { hostname: "mesh-a2", home: "r1", labels: { role: "db", zone: "west" } },
  { hostname: "mesh-b1", home: "r2", labels: { role: "web", zone: "west" } },
  { hostname: "mesh-b2", home: "r2", labels: { role: "db", zone: "east" } },
  { hostname: "mesh-c1", home: "r3", labels: { role: "web", zone: "east" } },
  { hostname: "mesh-c2", home: "r3", labels: { role: "db", zone: "west" } },
];
const ALL = AGENTS.map((agent) => agent.hostname);

describe("several routers: presence and forwarding on NATS", function () {
  this.timeout(90_000);
  const containers = new TestContainers();
  let nats: NatsServer;
  let postgres: TestPostgres;
  let stack: MeshStack;
  let box: string;
  let token: string;
  let database: string;

  before(async () => {
    [nats, postgres, box] = await Promise.all([NatsServer.start(), TestPostgres.start(), containers.start()]);
    const url = await postgres.createDatabase();
    database = url.slice(url.lastIndexOf("/") + 1);
    stack = await MeshStack.startMesh([nats.url], url, ROUTERS, AGENTS);
    token = await stack.token();
  });
  after(async () => {
    await stack?.stop();
    await nats?.stop();
    await postgres?.destroy();
    await containers.removeAll();
  });

  const hostsOf = (results: Array<{ hostname: string }>) => results.map((r) => r.hostname);

  it("lists the whole fleet from every router, each agent naming the router that holds it", async () => {
    const holders = await waitFor("all six agents held by their home routers", async () => {
      const seen = await stack.holders();
      return AGENTS.every((a) => seen[a.hostname] === a.home) && seen;
    });
    expect(Object.keys(holders).sort()).to.deep.equal(ALL);
    for (const router of ROUTERS) {
      const caller = stack.callerOf(router);
      const reply = await caller.listAgents(token);
      caller.close();
      expect(
        reply.response?.agents.map((a) => `${a.hostname}@${a.router}`),
        router,
      ).to.deep.equal(AGENTS.map((a) => `${a.hostname}@${a.home}`));
    }
  });

  it("runs _all through each router on all six hosts, sorted, and reaches other routers' agents by label and hostname", async () => {
    for (const router of ROUTERS) {
      const caller = stack.callerOf(router);
      const all = await caller.exec({ target: "_all", containerId: box, command: ["hostname"] }, token);
      expect(all.code, `${router}: ${all.message}`).to.equal(status.OK);
      expect(hostsOf(all.response!.results), router).to.deep.equal(ALL);
      expect(
        all.response!.results.every((r) => r.status === "ok"),
        router,
      ).to.equal(true);
      const db = await caller.exec({ target: "role:db", containerId: box, command: ["true"] }, token);
      expect(hostsOf(db.response!.results), router).to.deep.equal(["mesh-a2", "mesh-b2", "mesh-c2"]);
      const far = router === "r3" ? "mesh-a1" : "mesh-c1";
      const one = await caller.exec({ target: far, containerId: box, command: ["echo", "hi"] }, token);
      expect(
        one.response?.results.map((r) => [r.hostname, r.status, r.stdout]),
        router,
      ).to.deep.equal([[far, "ok", "hi\n"]]);
      caller.close();
    }
  });

  it("runs _any exactly once, wherever the host it picks is held", async () => {
    const file = `/tmp/any-${Date.now()}`;
    for (const router of ROUTERS) {
      const caller = stack.callerOf(router);
      const reply = await caller.exec({ target: "_any", containerId: box, command: ["sh", "-c", `echo ${router} >> ${file}`] }, token);
      caller.close();
      expect(reply.code, reply.message).to.equal(status.OK);
      expect(reply.response!.results).to.have.length(1);
    }
    const lines = await stack.exec("mesh-a1", box, { command: ["cat", file] });
    expect(lines.body.results[0].stdout).to.equal("r1\nr2\nr3\n");
  });

  it("streams each host's live output and result across routers as they come", async () => {
    const response = await fetch(`${stack.gatewayUrl}/node/_all/container/docker/${box}/exec?stream=true`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ command: ["hostname"] }),
    });
    expect(response.status).to.equal(200);
    const events = (await response.text())
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(events[0].type).to.equal("accepted");
    expect(events[0].hosts).to.deep.equal(ALL);
    expect(
      events
        .filter((e) => e.type === "result")
        .map((e) => e.result.hostname)
        .sort(),
    ).to.deep.equal(ALL);
    // Live output crosses the hop too: every host's stdout arrives as an output event.
    expect(
      events
        .filter((e) => e.type === "output" && e.stream === "stdout")
        .map((e) => e.hostname)
        .sort(),
    ).to.deep.equal(ALL);
    expect(events.at(-1)).to.include({ type: "summary", targeted: 6, ok: 6 });
  });

  it("carries the caller's request id to agents on other routers, and the caller going away cancels there too", async () => {
    // The edge takes the routers in turn, so of three calls to mesh-c1 (on r3) at least two cross a hop.
    const ids = ["mesh-rid-1", "mesh-rid-2", "mesh-rid-3"];
    for (const id of ids) {
      const reply = await stack.exec("mesh-c1", box, { command: ["true"] }, { headers: { "x-request-id": id } });
      expect(reply.status).to.equal(202);
    }
    const agentLogs = stack.agents.get("mesh-c1")!.logs;
    for (const id of ids)
      expect(
        agentLogs.some((line) => line.requestId === id),
        id,
      ).to.equal(true);

    // Sent to r1, so the sleep runs through a forward to r3; the caller cancels the call.
    const client = new ExecServiceClient(stack.addressOf("r1"), credentials.createInsecure());
    const metadata = new Metadata();
    metadata.set("authorization", `Bearer ${token}`);
    const call = client.execContainer({ target: "mesh-c2", containerId: box, command: ["sleep", "307"], env: [], workingDir: "" }, metadata, () => {});
    await waitFor("the sleep to run", async () => (await containers.countRunning(box, "sleep 307")) === 1);
    call.cancel();
    client.close();
    await waitFor("the agent to kill it once the caller went away", async () => (await containers.countRunning(box, "sleep 307")) === 0);
  });

  it("rolls a job over other routers' hosts one at a time, and a cancel reaching another router reaches its coordinator", async () => {
    // Coordinated by r3; role:db in hostname order starts with mesh-a2, held by r1. Cancelled through r2.
    const started = await stack
      .callerOf("r3")
      .exec({ target: "role:db", containerId: box, command: ["sleep", "308"], async: true, maxConcurrency: "1" }, token);
    expect(started.code, started.message).to.equal(status.OK);
    await waitFor("the first host's sleep", async () => (await containers.countRunning(box, "sleep 308")) === 1);
    const jobs = new JobServiceClient(stack.addressOf("r2"), credentials.createInsecure());
    const metadata = new Metadata();
    metadata.set("authorization", `Bearer ${token}`);
    const job = await new Promise<Job>((resolve, reject) =>
      jobs.cancelJob({ jobId: started.response!.jobId }, metadata, (err, reply) => (err ? reject(err) : resolve(reply))),
    );
    jobs.close();
    expect(job.status).to.equal("cancelled");
    expect(job.results.map((r) => [r.hostname, r.status])).to.deep.equal([
      ["mesh-a2", "cancelled"],
      ["mesh-b2", "skipped"],
      ["mesh-c2", "skipped"],
    ]);
    await waitFor("the sleep killed on r1's agent", async () => (await containers.countRunning(box, "sleep 308")) === 0);
  });

  it("runs one Idempotency-Key sent to all three routers at once exactly once, and gives every caller that job", async () => {
    const marker = `/tmp/idem-${Date.now()}`;
    const callers = ROUTERS.map((router) => stack.callerOf(router));
    // mesh-c1 is held by r3: the calls through r1 and r2 forward to it.
    const request = { target: "mesh-c1", containerId: box, command: ["sh", "-c", `echo ran >> ${marker}`], idempotencyKey: `idem-${marker}` };
    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => callers[i % 3].exec(request, token)));
    callers.forEach((caller) => caller.close());
    for (const reply of replies) expect(reply.code, reply.message).to.equal(status.OK);
    expect(new Set(replies.map((reply) => reply.response!.jobId)).size).to.equal(1);
    const lines = await stack.exec("mesh-c1", box, { command: ["cat", marker] });
    expect(lines.body.results[0].stdout).to.equal("ran\n");
  });

  it("fails the hosts of a router killed mid-exec naming it, and its agents come back on the others", async () => {
    const caller = stack.callerOf("r2");
    const running = caller.exec({ target: "_all", containerId: box, command: ["sleep", "5"], timeoutSeconds: 30 }, token);
    // A job that r1 coordinates: the routers that remain mark it failed once r1 is lost.
    const coordinatedByR1 = stack.callerOf("r1");
    const orphan = await coordinatedByR1.exec({ target: "mesh-b1", containerId: box, command: ["sleep", "6"], timeoutSeconds: 30, async: true }, token);
    coordinatedByR1.close();
    expect(orphan.code, orphan.message).to.equal(status.OK);
    await waitFor("the sleeps to run", async () => (await containers.countRunning(box, "sleep 5")) === 6);
    const slotsOfR1 = () => postgres.psql("SELECT count(*) FROM subject_slots WHERE router = 'r1'", database);
    expect(await slotsOfR1(), "the exec slot r1's job holds in the shared limits").to.equal("1");
    await stack.routers.get("r1")!.process.stop("SIGKILL");
    const reply = await running;
    caller.close();
    expect(reply.code, reply.message).to.equal(status.OK);
    const byHost = Object.fromEntries(reply.response!.results.map((r) => [r.hostname, r]));
    expect(Object.keys(byHost)).to.deep.equal(ALL);
    for (const host of ["mesh-a1", "mesh-a2"]) {
      expect(byHost[host]).to.include({ status: "failed", changed: false });
      expect(byHost[host].error).to.match(/router lost: r1/);
    }
    for (const host of ["mesh-b1", "mesh-b2", "mesh-c1", "mesh-c2"]) expect(byHost[host].status, host).to.equal("ok");
    // The job record, read through the edge from whichever router answers, says the same.
    const job = await stack.request("GET", `/job/${reply.response!.jobId}`, { token });
    expect(job.status, JSON.stringify(job.body)).to.equal(200);
    expect(job.body.results.map((r: { hostname: string; status: string }) => `${r.hostname}:${r.status}`)).to.deep.equal(
      reply.response!.results.map((r) => `${r.hostname}:${r.status}`),
    );
    const lost = await waitFor("r1's own job to be marked failed by the routers that remain", async () => {
      const read = await stack.request("GET", `/job/${orphan.response!.jobId}`, { token });
      return read.status === 200 && read.body.status !== "running" && read.body;
    });
    expect(lost).to.include({ status: "failed" });
    expect(lost.error).to.match(/router lost: r1/);
    await waitFor("r1's exec slot given back to its subject", async () => (await slotsOfR1()) === "0");

    const holders = await waitFor(
      "the six agents held by the surviving routers",
      async () => {
        const seen = await stack.holders();
        return ALL.every((h) => seen[h] && seen[h] !== "r1") && seen;
      },
      30_000,
    );
    expect(Object.keys(holders).sort()).to.deep.equal(ALL);
    // The edge takes the routers in turn: one of these three starts with dead r1, which provably
    // never got it ("No connection established"), so the edge moves it on to the next router.
    for (let i = 0; i < 3; i++) {
      const again = await stack.exec("_all", box, { command: ["true"] });
      expect(again.status, JSON.stringify(again.body)).to.equal(202);
      expect(hostsOf(again.body.results)).to.deep.equal(ALL);
    }
  });

  it("refuses to start a router whose NATS is unreachable, exit 2, naming it and not its token", async () => {
    const router = MeshexecProcess.spawn(
      "router without NATS",
      ["router", "--name", "lonely", "--nats", "nats://127.0.0.1:1", "--grpc-listen", "127.0.0.1:0"],
      {
        MESHEXEC_JWT_SECRET: stack.secret,
        MESHEXEC_DATABASE_URL: await postgres.createDatabase(),
        MESHEXEC_NATS_TOKEN: "nats-secret-never-shown",
      },
    );
    const exit = await router.exited;
    expect(exit.code).to.equal(2);
    expect(router.stderr).to.match(/NATS unreachable: could not connect to NATS at nats:\/\/127\.0\.0\.1:1/);
    expect(router.stderr + JSON.stringify(router.logs)).not.to.include("nats-secret-never-shown");
  });

  it("refuses a target that needs other routers' agents with 503 once NATS is gone", async () => {
    const holders = await stack.holders();
    const local = ALL.find((h) => holders[h] === "r2")!;
    const remote = ALL.find((h) => holders[h] === "r3")!;
    await nats.stop();
    const caller = stack.callerOf("r2");
    const all = await waitFor("r2 to notice NATS is gone", async () => {
      const reply = await caller.exec({ target: "_all", containerId: box, command: ["true"] }, token);
      return reply.code === status.UNAVAILABLE && reply;
    });
    expect(all.error).to.equal("fleet view unavailable");
    expect(all.details).to.match(/NATS/);
    const far = await caller.exec({ target: remote, containerId: box, command: ["true"] }, token);
    expect(far.code, far.message).to.equal(status.UNAVAILABLE);
    const near = await caller.exec({ target: local, containerId: box, command: ["true"] }, token);
    caller.close();
    expect(near.code, near.message).to.equal(status.OK);
  });
});

describe("several routers: a three-node NATS cluster loses a node", function () {
  this.timeout(90_000);
  const containers = new TestContainers();
  let cluster: NatsServer[];
  let postgres: TestPostgres;
  let stack: MeshStack;
  let box: string;

  before(async () => {
    [cluster, postgres, box] = await Promise.all([NatsServer.cluster(), TestPostgres.start(), containers.start()]);
    stack = await MeshStack.startMesh(
      cluster.map((node) => node.url),
      await postgres.createDatabase(),
      ["k1", "k2"],
      [
        { hostname: "nats-a", home: "k1" },
        { hostname: "nats-b", home: "k2" },
      ],
    );
  });
  after(async () => {
    await stack?.stop();
    await Promise.all((cluster ?? []).map((node) => node.stop("SIGKILL")));
    await postgres?.destroy();
    await containers.removeAll();
  });

  it("keeps running execs on every host when one NATS node is killed mid-traffic", async () => {
    const token = await stack.token();
    const caller = stack.callerOf("k1");
    const execAll = () => caller.exec({ target: "_all", containerId: box, command: ["true"] }, token);
    const bothOk = (reply: Awaited<ReturnType<typeof execAll>>) =>
      reply.code === status.OK && reply.response!.results.map((r) => `${r.hostname}:${r.status}`).join() === "nats-a:ok,nats-b:ok";
    expect(bothOk(await execAll())).to.equal(true);
    const traffic = Promise.all(Array.from({ length: 5 }, () => execAll()));
    await cluster[0].stop("SIGKILL");
    await traffic;
    // Routers on the killed node reconnect to the others within a second or two; then every exec works.
    await waitFor("an exec on both hosts after the node died", async () => bothOk(await execAll()), 15_000);
    for (let i = 0; i < 5; i++) expect(bothOk(await execAll()), `exec ${i} after recovery`).to.equal(true);
    caller.close();
  });

  it("ends a revoked agent's session on the router holding it, and no router takes it back", async () => {
    const admin = await stack.token(["agent:admin"]);
    const caller = stack.callerOf("k1");
    const reply = await caller.revokeAgent("nats-b", admin);
    caller.close();
    expect(reply.code, reply.message).to.equal(status.OK);
    expect(reply.response?.sessionEnded).to.equal(true);
    const reader = await stack.token(["agent:read"]);
    for (const router of ["k1", "k2"]) {
      const view = stack.callerOf(router);
      // The session ended at once (core NATS); its presence entry goes once JetStream answers, which
      // after the node kill above can take the cluster ~10 s (electing a new leader).
      await waitFor(
        `nats-b to leave ${router}'s view of the fleet`,
        async () => {
          const agents = (await view.listAgents(reader)).response?.agents.map((a) => a.hostname);
          return agents?.join() === "nats-a";
        },
        30_000,
      );
      view.close();
    }
    // Its agent dials k1 next, which recorded the revocation from NATS and refuses it.
    await stack.agents
      .get("nats-b")!
      .waitForLog("router link lost; reconnecting", (line) => /revoked/.test(String(line.reason)) && line.router === stack.addressOf("k1"));
    expect(await stack.connectedAgents()).to.deep.equal(["nats-a"]);
  });
});
