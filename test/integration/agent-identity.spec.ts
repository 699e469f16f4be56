import { randomBytes } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { expect } from "chai";
import { decodeJwt } from "jose";
import { expectErrorShape } from "../support/error-shape.js";
import { GrpcCaller } from "../support/grpc-exec.js";
import { MeshexecProcess, type LogLine } from "../support/meshexec-process.js";
import { RawAgentStream } from "../support/raw-agent.js";
import { runCli } from "../support/run-cli.js";
import { TestContainers } from "../support/test-containers.js";
import { ALL_SCOPES, TestStack } from "../support/test-stack.js";
import { waitFor } from "../support/wait-for.js";

const ADMIN_SCOPES = [...ALL_SCOPES, "agent:admin"];

describe("per-agent identity", function () {
  this.timeout(60_000);
  const containers = new TestContainers();
  const raw: RawAgentStream[] = [];
  let stack: TestStack;
  let box: string;

  before(async () => {
    box = await containers.start();
    stack = await TestStack.start([
      { hostname: "web-1", labels: { role: "web" } },
      { hostname: "db-9", labels: { role: "db" } },
    ]);
  });
  after(async () => {
    raw.forEach((stream) => stream.close());
    await stack?.stop();
    await containers.removeAll();
  });

  const rawAgent = (token?: string) => {
    const stream = new RawAgentStream(stack.routerAddress, token);
    raw.push(stream);
    return stream;
  };
  const refusedLine = (match: (line: LogLine) => boolean) => stack.router.waitForLog("agent refused", match);
  const agentsByHost = async () => {
    const reply = await stack.request("GET", "/agents", { token: await stack.token() });
    return Object.fromEntries(reply.body.agents.map((a: { hostname: string }) => [a.hostname, a]));
  };

  it("meshexec token --agent mints a token for one hostname and its labels that an agent connects with", async () => {
    const mint = (...args: string[]) => runCli(["token", ...args], { MESHEXEC_JWT_SECRET: stack.secret });
    const minted = await mint("--agent", "web-7", "--label", "role=web", "--label", "example.com/zone=east", "--ttl", "30d");
    expect(minted.code, minted.stderr).to.equal(0);
    const token = minted.stdout.trim();
    stack.agentTokens.push(token);
    const payload = decodeJwt(token);
    expect(payload).to.deep.include({
      sub: "agent:web-7",
      scope: "agent:connect",
      meshexec_agent: { hostname: "web-7", labels: { role: "web", "example.com/zone": "east" } },
    });
    expect(payload.exp! - payload.iat!).to.equal(30 * 86_400);
    await stack.startAgent({ hostname: "web-7", labels: { role: "web" } }, { token });

    const refusals = [
      [["--agent", "web-7", "--subject", "alice"], /--agent takes no --subject, --scope, --target or --container/],
      [["--agent", "not a host"], /invalid --agent/],
      [["--agent", "web-7", "--label", "role=" + "x".repeat(64)], /a label value must be 1 to 63 characters/],
      [["--subject", "alice", "--label", "role=web"], /--label needs --agent/],
    ] as const;
    for (const [args, message] of refusals) {
      const run = await mint(...args);
      expect(run.code, args.join(" ")).to.equal(2);
      expect(run.stderr).to.match(message);
    }
  });

  it("refuses a rogue agent holding db-9's token that claims web-1; the real web-1 keeps its session and runs the next exec", async () => {
    const before = (await agentsByHost())["web-1"];
    const rogue = await stack.spawnAgent({ hostname: "web-1", labels: { role: "web" } }, { token: await stack.agentToken("db-9", { role: "db" }) });
    const line = await refusedLine((l) => l.code === "PERMISSION_DENIED" && l.asked === "web-1");
    expect(line).to.include({ allowed: "db-9", level: 40 });
    expect(line.peer).to.be.a("string");
    expect(String(line.reason)).to.include('is for "db-9", not "web-1"');
    await rogue.waitForLog("router link lost; reconnecting", (l) => l.code === "PERMISSION_DENIED");

    const reply = await stack.exec("web-1", box, { command: ["echo", "to the real one"] }, { headers: { "x-request-id": "identity-next-exec" } });
    expect(reply.body.results[0]).to.include({ hostname: "web-1", status: "ok", stdout: "to the real one\n" });
    await stack.agents.get("web-1")!.waitForLog("exec finished", (l) => l.requestId === "identity-next-exec");
    expect(rogue.logs.filter((l) => l.msg === "exec finished")).to.deep.equal([]);
    expect((await agentsByHost())["web-1"]).to.deep.include({ connected_since: before.connected_since });
  });

  it("refuses a rogue agent claiming a label its token does not allow, and admits a subset of the allowed labels", async () => {
    await stack.spawnAgent({ hostname: "rogue-db", labels: { role: "web" } }, { token: await stack.agentToken("rogue-db", { role: "db" }) });
    const line = await refusedLine((l) => l.code === "PERMISSION_DENIED" && l.asked === "role=web");
    expect(line).to.include({ allowed: "role=db" });
    const web = await stack.exec("role:web", box, { command: ["true"] });
    const ranOn = web.body.results.map((r: { hostname: string }) => r.hostname);
    expect(ranOn).to.include("web-1").and.not.include("rogue-db");

    await stack.startAgent({ hostname: "web-3", labels: { role: "web" } }, { token: await stack.agentToken("web-3", { role: "web", zone: "east" }) });
    expect((await agentsByHost())["web-3"].labels).to.deep.equal({ role: "web" });
  });

  it("grants nothing for a stolen instance id: another identity is refused, the same one takes over only as that instance, logged at warn with both peers", async () => {
    const web5 = await stack.agentToken("web-5");
    const owner = rawAgent(web5);
    owner.hello({ hostname: "web-5", instanceId: "instance-of-web-5" });
    await owner.welcomed();

    const thief = rawAgent(await stack.agentToken("db-9", { role: "db" }));
    thief.hello({ hostname: "web-5", instanceId: "instance-of-web-5" });
    expect((await thief.ended()).code).to.equal(status.PERMISSION_DENIED);

    const secondProcess = rawAgent(web5);
    secondProcess.hello({ hostname: "web-5", instanceId: "another-instance" });
    expect((await secondProcess.ended()).code).to.equal(status.ALREADY_EXISTS);
    expect(owner.status).to.equal(undefined);

    const reconnecting = rawAgent(web5);
    reconnecting.hello({ hostname: "web-5", instanceId: "instance-of-web-5" });
    await reconnecting.welcomed();
    await owner.ended();
    const takeover = await stack.router.waitForLog("agent session taken over", (l) => l.hostname === "web-5");
    expect(takeover).to.include({ level: 40, reason: "same agent reconnecting", credential: "token" });
    expect(takeover.peer).to.be.a("string").and.not.equal(takeover.previousPeer);
    expect(takeover.previousPeer).to.be.a("string");
  });

  it("refuses a caller's token on Connect, and an agent's token on the callers' API", async () => {
    const caller = rawAgent(await stack.token());
    caller.hello({ hostname: "web-6" });
    const refused = await caller.ended();
    expect(refused.code).to.equal(status.PERMISSION_DENIED);
    expect(refused.details).to.include("agent:connect");

    const agentToken = await stack.agentToken("web-1", { role: "web" });
    expectErrorShape(await stack.exec("web-1", box, { command: ["true"] }, { token: agentToken }), 403);
    expectErrorShape(await stack.request("GET", "/agents", { token: agentToken }), 403);
    expectErrorShape(await stack.request("POST", "/agents/web-1/revoke", { token: agentToken }), 403);
    const grpc = new GrpcCaller(stack.routerAddress);
    try {
      expect((await grpc.listAgents(agentToken)).code).to.equal(status.PERMISSION_DENIED);
      expect((await grpc.exec({ target: "web-1", containerId: box, command: ["true"] }, agentToken)).code).to.equal(status.PERMISSION_DENIED);
    } finally {
      grpc.close();
    }
  });

  it("refuses a shared join token on a router started without --insecure-join-token", async () => {
    const joinToken = randomBytes(24).toString("base64url");
    const agent = await stack.spawnAgent({ hostname: "joiner" }, { token: joinToken });
    await refusedLine((l) => l.code === "UNAUTHENTICATED");
    await agent.waitForLog("router link lost; reconnecting", (l) => l.code === "UNAUTHENTICATED");
    expect(Object.keys(await agentsByHost())).to.not.include("joiner");
  });

  it("closes a Connect stream that says no hello within 10 s, and an unauthenticated one at once", async () => {
    const anonymous = rawAgent();
    expect((await anonymous.ended(5_000)).code).to.equal(status.UNAUTHENTICATED);
    const silent = rawAgent(await stack.agentToken("silent-1"));
    // The deadline is 10 s: the stream must be closed past it, and well before 12 s.
    const closed = await silent.ended(12_000);
    expect(closed.code).to.equal(status.DEADLINE_EXCEEDED);
    expect(closed.details).to.include("no valid hello within 10 s");
    await refusedLine((l) => l.code === "DEADLINE_EXCEEDED");
  });

  it("refuses oversized hellos, and logs none of them in full", async () => {
    const cases = [
      { labels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"])), details: "at most 64 labels, got 65" },
      { labels: { role: "x".repeat(1024 * 1024) }, details: "a label value must be 1 to 63 characters" },
      { labels: { ["k".repeat(64 * 1024)]: "v" }, details: "a label key's name must be 1 to 63 characters" },
      { version: "v".repeat(1024 * 1024), details: "longer than 64 characters" },
    ];
    for (const [i, { details, ...hello }] of cases.entries()) {
      const stream = rawAgent(await stack.agentToken(`big-${i}`));
      stream.hello({ hostname: `big-${i}`, ...hello });
      const ended = await stream.ended();
      expect(ended.code, details).to.equal(status.INVALID_ARGUMENT);
      expect(ended.details).to.include(details);
    }
    await waitFor("every oversized hello to be logged", () => stack.router.logs.filter((l) => l.code === "INVALID_ARGUMENT").length >= cases.length);
    const longest = Math.max(...stack.router.logs.map((l) => JSON.stringify(l).length));
    expect(longest, "the longest router log line").to.be.below(2_000);
  });
});

describe("revoking an agent", function () {
  this.timeout(60_000);
  const containers = new TestContainers();
  let stack: TestStack;
  let box: string;

  before(async () => {
    box = await containers.start();
    stack = await TestStack.start([{ hostname: "rev-1" }, { hostname: "rev-keep" }]);
  });
  after(async () => {
    await stack?.stop();
    await containers.removeAll();
  });

  it("needs the scope agent:admin", async () => {
    const reply = await stack.request("POST", "/agents/rev-1/revoke", { token: await stack.token() });
    expectErrorShape(reply, 403);
    expect(reply.body.details).to.include("agent:admin");
  });

  it("ends the session, fails its exec in flight naming the revocation, refuses its token even after a router restart, audits it, and admits a newly minted one", async () => {
    const admin = await stack.token(ADMIN_SCOPES);
    const running = stack.exec("rev-1", box, { command: ["sleep", "30"] });
    await waitFor(
      "the exec to be in flight on rev-1",
      async () =>
        (await stack.request("GET", "/agents", { token: admin })).body.agents.find((a: { hostname: string; in_flight: number }) => a.hostname === "rev-1")
          ?.in_flight === 1,
    );

    const revoked = await stack.request("POST", "/agents/rev-1/revoke", { token: admin, headers: { "x-request-id": "revoke-rev-1" } });
    expect(revoked.status).to.equal(200);
    expect(revoked.body).to.include({ hostname: "rev-1", session_ended: true });
    const result = (await running).body.results[0];
    expect(result).to.include({ hostname: "rev-1", status: "failed", changed: false });
    expect(result.error).to.match(/agent revoked by test at /);
    await waitFor("the agent to kill the revoked session's command", async () => (await containers.countRunning(box, "sleep 30")) === 0);

    const oldAgent = stack.agents.get("rev-1")!;
    await oldAgent.waitForLog("router link lost; reconnecting", (l) => l.code === "PERMISSION_DENIED" && String(l.reason).includes("agent revoked"));
    await stack.router.waitForLog("agent refused", (l) => String(l.reason).includes('"rev-1" was revoked at'));
    expect(await stack.connectedAgents()).to.deep.equal(["rev-keep"]);

    const audit = await stack.request("GET", "/audit", { token: admin });
    const entry = audit.body.entries.find((e: { request_id: string }) => e.request_id === "revoke-rev-1");
    expect(entry).to.include({ subject: "test", target: "rev-1", grpc_code: "OK", http_status: 200 });
    expect(entry.command).to.deep.equal(["RevokeAgent"]);

    await stack.router.stop("SIGTERM");
    await stack.startRouter(stack.routerPort);
    await stack.waitForAgents(["rev-keep"]);
    await stack.router.waitForLog("agent refused", (l) => String(l.reason).includes('"rev-1" was revoked at'));

    // Credentials are refused up to the revocation's whole second; one minted after it is new.
    await waitFor("the second after the revocation", () => Date.now() >= Date.parse(revoked.body.revoked_at) + 1_000);
    await oldAgent.stop();
    await stack.startAgent({ hostname: "rev-1" });
    const again = await stack.exec("rev-1", box, { command: ["echo", "re-enrolled"] });
    expect(again.body.results[0]).to.include({ status: "ok", stdout: "re-enrolled\n" });
  });

  it("revokes through the CLI and gRPC too, a hostname not connected included", async () => {
    const admin = await stack.token(ADMIN_SCOPES);
    const cli = await runCli(["agents", "revoke", "never-seen"], { MESHEXEC_GATEWAY: stack.gatewayUrl, MESHEXEC_TOKEN: admin });
    expect(cli.code, cli.stderr).to.equal(0);
    expect(cli.stdout).to.match(/^revoked never-seen at .*: it was not connected; credentials issued until then are refused\n$/);
    const bad = await runCli(["agents", "revoke", "not a host"], { MESHEXEC_GATEWAY: stack.gatewayUrl, MESHEXEC_TOKEN: admin });
    expect(bad.stderr).to.match(/invalid hostname/);

    const grpc = new GrpcCaller(stack.routerAddress);
    try {
      const reply = await grpc.revokeAgent("rev-keep", admin);
      expect(reply.code).to.equal(status.OK);
      expect(reply.response).to.include({ hostname: "rev-keep", sessionEnded: true });
    } finally {
      grpc.close();
    }
    await waitFor("rev-keep to be gone", async () => !(await stack.connectedAgents()).includes("rev-keep"));
  });
});

describe("how a router admits agents at startup", function () {
  this.timeout(30_000);
  const processes: MeshexecProcess[] = [];
  const raw: RawAgentStream[] = [];
  after(async () => {
    raw.forEach((stream) => stream.close());
    await Promise.all(processes.map((p) => p.stop("SIGKILL")));
  });

  it("refuses to start with no way to verify agents' tokens, exit 2", async () => {
    const router = MeshexecProcess.spawn("router", ["router", "--grpc-listen", "127.0.0.1:0"]);
    processes.push(router);
    expect((await router.exited).code).to.equal(2);
    expect(router.stderr).to.include("no way to admit agents");
  });

  it("with --insecure-join-token, warns at startup and admits any hostname and labels for it, but never over a verified agent's session", async () => {
    const stack = new TestStack();
    const joinToken = randomBytes(24).toString("base64url");
    const router = await stack.startRouter(0, ["--insecure-join-token", joinToken]);
    processes.push(router);
    const warning = await router.waitForLog(
      "insecure join token: any agent holding it may register as any hostname with any labels and take over a join-token session; mint per-agent tokens (meshexec token --agent) instead",
    );
    expect(warning).to.include({ level: 40, flag: "--insecure-join-token" });
    expect(JSON.stringify(router.logs)).to.not.include(joinToken);

    const open = (token: string) => {
      const stream = new RawAgentStream(stack.routerAddress, token);
      raw.push(stream);
      return stream;
    };
    const anyone = open(joinToken);
    anyone.hello({ hostname: "whoever", labels: { role: "anything" } });
    await anyone.welcomed();

    const verified = open(await stack.agentToken("verified-1"));
    verified.hello({ hostname: "verified-1", instanceId: "i-1" });
    await verified.welcomed();
    const joiner = open(joinToken);
    joiner.hello({ hostname: "verified-1", instanceId: "i-1" });
    const refused = await joiner.ended();
    expect(refused.code).to.equal(status.PERMISSION_DENIED);
    expect(refused.details).to.include("a join token cannot take its session over");
    expect(verified.status).to.equal(undefined);
  });
});
