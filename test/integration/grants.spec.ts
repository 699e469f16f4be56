import { randomUUID } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { expect } from "chai";
import { decodeJwt } from "jose";
import { GRANT_CLAIMS, loadSigningKey, mintToken } from "../../src/auth/index.js";
import { DockerSocketProxy } from "../support/docker-socket-proxy.js";
import { expectErrorShape } from "../support/error-shape.js";
import { GrpcCaller } from "../support/grpc-exec.js";
import { runCli } from "../support/run-cli.js";
import { TestContainers } from "../support/test-containers.js";
import { TestStack } from "../support/test-stack.js";

/**
 * A token restricted by its grant claims reaching outside them, against real processes and the
 * real engine: every refusal is 403 naming the claim, and nothing runs where it was refused.
 * db-1's agent reaches the engine through a proxy that makes the allowed container's name mean
 * the secret container there, as a node where that name is another container would.
 */
describe("grants: tokens restricted to targets and containers (router, edge, three agents, real Docker)", function () {
  this.timeout(60_000);
  const containers = new TestContainers();
  let stack: TestStack;
  let grpc: GrpcCaller;
  let proxy: DockerSocketProxy;
  /** A container whose name the container grants below allow, and one they do not. */
  let app: string;
  let secret: string;

  before(async () => {
    [app, secret] = await Promise.all([containers.start("grants-app"), containers.start("grants-secret")]);
    proxy = new DockerSocketProxy(join(tmpdir(), `meshexec-grants-${randomUUID().slice(0, 8)}.sock`), undefined, { from: app, to: secret });
    await proxy.up();
    stack = await TestStack.start([
      { hostname: "web-1", labels: { role: "web" } },
      { hostname: "web-2", labels: { role: "web" } },
      { hostname: "db-1", labels: { role: "db" }, args: ["--docker-socket", proxy.path] },
    ]);
    grpc = new GrpcCaller(stack.routerAddress);
  });
  after(async () => {
    grpc?.close();
    await stack?.stop();
    await proxy?.down();
    await containers.removeAll();
  });

  function restrictedToken(grants: { targets?: unknown; containers?: unknown }): Promise<string> {
    const extraClaims: Record<string, unknown> = {};
    if (grants.targets !== undefined) extraClaims[GRANT_CLAIMS.targets] = grants.targets;
    if (grants.containers !== undefined) extraClaims[GRANT_CLAIMS.containers] = grants.containers;
    return mintToken(loadSigningKey({ secret: stack.secret }), { subject: "restricted", scopes: ["docker:execute"], ttlMs: 3_600_000, extraClaims });
  }

  /** A command that appends a line to `file` in the container, so how many times it ran can be counted afterwards. */
  const appendTo = (file: string) => ({ command: ["sh", "-c", `echo ran >> ${file}`] });

  /** Lines in `file` in the container, read with the stack's unrestricted token on web-1 (whose engine is not proxied). */
  async function linesIn(container: string, file: string): Promise<number> {
    const reply = await stack.exec("web-1", container, { command: ["sh", "-c", `cat ${file} 2>/dev/null | wc -l`] });
    expect(reply.status, JSON.stringify(reply.body)).to.equal(202);
    return Number(reply.body.results[0].stdout.trim());
  }

  /** The shortest prefix of the container's id, at least 3 characters, that no other container on the engine shares. */
  async function idPrefixOf(name: string): Promise<string> {
    const { Id: id } = await containers.docker.getContainer(name).inspect();
    const others = (await containers.docker.listContainers({ all: true })).map((c) => c.Id).filter((other) => other !== id);
    for (let length = 3; ; length++) {
      if (!others.some((other) => other.startsWith(id.slice(0, length)))) return id.slice(0, length);
    }
  }

  it("leaves a token without grant claims unrestricted: _all runs everywhere", async () => {
    const reply = await stack.exec("_all", app, { command: ["true"] }, { token: await restrictedToken({}) });
    expect(reply.status, JSON.stringify(reply.body)).to.equal(202);
    expect(reply.body.results.map((r: { status: string }) => r.status)).to.deep.equal(["ok", "ok", "ok"]);
  });

  describe("targets", () => {
    it("refuses a hostname outside the hostname globs with 403 naming the claim and the host, over REST and gRPC", async () => {
      const token = await restrictedToken({ targets: ["web-*"] });
      const rest = await stack.exec("db-1", app, { command: ["true"] }, { token });
      const error = expectErrorShape(rest, 403);
      expect(error.error).to.equal("target not allowed");
      expect(error.details).to.equal(`target "db-1" reaches db-1, outside the token's "meshexec_targets" claim; nothing ran`);
      const reply = await grpc.exec({ target: "db-1", containerId: app, command: ["true"] }, token);
      expect(reply.code).to.equal(status.PERMISSION_DENIED);
      expect(reply.message).to.equal(`${error.error}: ${error.details}`);
      // Inside the globs, the same token runs.
      expect((await stack.exec("web-2", app, { command: ["true"] }, { token })).status).to.equal(202);
    });

    it("allows a hostname by a granted label it carries, and refuses a label target outside the grant", async () => {
      const token = await restrictedToken({ targets: ["role:db"] });
      const allowed = await stack.exec("db-1", secret, { command: ["true"] }, { token });
      expect(allowed.status, JSON.stringify(allowed.body)).to.equal(202);
      const refused = expectErrorShape(await stack.exec("role:web", app, { command: ["true"] }, { token }), 403);
      expect(refused.details).to.match(/^target "role:web" reaches web-1, web-2, outside the token's "meshexec_targets" claim/);
    });

    it("refuses _all whole when one host is outside, running nothing anywhere, and audits the refusal", async () => {
      const file = `/tmp/all-${randomUUID()}`;
      const token = await restrictedToken({ targets: ["role:web"] });
      const refused = expectErrorShape(await stack.exec("_all", app, appendTo(file), { token }), 403);
      expect(refused.details).to.equal(`target "_all" reaches db-1, outside the token's "meshexec_targets" claim; nothing ran`);
      expect(await linesIn(app, file)).to.equal(0);
      // The same command on the hosts the grant does allow runs on each of them: the count above could have moved.
      expect((await stack.exec("role:web", app, appendTo(file), { token })).status).to.equal(202);
      expect(await linesIn(app, file)).to.equal(2);
      const audit = await stack.request("GET", "/audit?limit=5", { token: await stack.token() });
      const entry = audit.body.entries.find((e: { target: string; subject: string }) => e.target === "_all" && e.subject === "restricted");
      expect(entry?.http_status, JSON.stringify(entry)).to.equal(403);
    });

    it("narrows _any to the allowed hosts, and refuses it when none is connected", async () => {
      const token = await restrictedToken({ targets: ["db-*"] });
      for (let i = 0; i < 4; i++) {
        const reply = await stack.exec("_any", secret, { command: ["true"] }, { token });
        expect(reply.status, JSON.stringify(reply.body)).to.equal(202);
        expect(reply.body.results[0].hostname).to.equal("db-1");
      }
      const nowhere = expectErrorShape(await stack.exec("_any", app, { command: ["true"] }, { token: await restrictedToken({ targets: ["cache-?"] }) }), 403);
      expect(nowhere.details).to.equal(`none of the 3 connected agents is inside the token's "meshexec_targets" claim`);
    });
  });

  describe("containers", () => {
    it("refuses a 3-character id prefix of a container whose real name is outside the grant (403), running nothing", async () => {
      const file = `/tmp/prefix-${randomUUID()}`;
      const token = await restrictedToken({ containers: ["grants-app-*"] });
      const prefix = await idPrefixOf(secret);
      const refused = expectErrorShape(await stack.exec("web-1", prefix, appendTo(file), { token }), 403);
      expect(refused.error).to.equal("container not allowed");
      expect(refused.details).to.equal(`web-1: container "${prefix}" is outside the token's "meshexec_containers" claim; nothing ran`);
      expect(await linesIn(secret, file)).to.equal(0);
      // The details never tell the real name of a container the caller may not use.
      expect(refused.details).not.to.include(secret);
    });

    it("runs by a 3-character id prefix of a container whose real name is inside the grant (202), in that container", async () => {
      const token = await restrictedToken({ containers: ["grants-app-*"] });
      const prefix = await idPrefixOf(app);
      const reply = await stack.exec("web-1", prefix, { command: ["hostname"] }, { token });
      expect(reply.status, JSON.stringify(reply.body)).to.equal(202);
      const { Id: id } = await containers.docker.getContainer(app).inspect();
      expect(reply.body.results[0]).to.include({ status: "ok", stdout: `${id.slice(0, 12)}\n` });
    });

    it("in a fan-out, fails only the host where the name is a container outside the grant; the others run", async () => {
      const file = `/tmp/fanout-${randomUUID()}`;
      const token = await restrictedToken({ targets: ["*"], containers: ["grants-app-*"] });
      const reply = await stack.exec("_all", app, appendTo(file), { token });
      expect(reply.status, JSON.stringify(reply.body)).to.equal(202);
      const byHost = Object.fromEntries(reply.body.results.map((r: { hostname: string }) => [r.hostname, r]));
      expect(byHost["web-1"]).to.include({ status: "ok", changed: true });
      expect(byHost["web-2"]).to.include({ status: "ok", changed: true });
      expect(byHost["db-1"]).to.include({
        status: "failed",
        changed: false,
        error: `container "${app}" is outside the token's "meshexec_containers" claim; nothing ran`,
      });
      expect(await linesIn(app, file)).to.equal(2);
      expect(await linesIn(secret, file)).to.equal(0);
    });
  });

  it("refuses a token whose grant claim is malformed with 401 naming the claim", async () => {
    const reply = await stack.exec("web-1", app, { command: ["true"] }, { token: await restrictedToken({ containers: "grants-app-*" }) });
    const error = expectErrorShape(reply, 401);
    expect(error.error).to.equal("malformed token claim");
    expect(error.details).to.match(/"meshexec_containers" claim must be an array of 1 to 32 strings/);
  });

  describe("meshexec token --target/--container", () => {
    it("mints the claims, and the router holds the token to them", async () => {
      const run = await runCli(
        ["token", "--subject", "ci", "--scope", "docker:execute", "--target", "role:web", "--target", "db-*", "--container", "grants-app-*"],
        { MESHEXEC_JWT_SECRET: stack.secret },
      );
      expect(run.code, run.stderr).to.equal(0);
      const token = run.stdout.trim().split("\n").at(-1)!;
      expect(decodeJwt(token)).to.deep.include({ meshexec_targets: ["role:web", "db-*"], meshexec_containers: ["grants-app-*"] });
      expect((await stack.exec("role:web", app, { command: ["true"] }, { token })).status).to.equal(202);
      expect((await stack.exec("web-1", secret, { command: ["true"] }, { token })).status).to.equal(403);
    });

    it("refuses a glob it cannot mint, before signing anything (exit 2)", async () => {
      const run = await runCli(["token", "--subject", "ci", "--target", "web-[12]"], { MESHEXEC_JWT_SECRET: stack.secret });
      expect(run.code).to.equal(2);
      expect(run.stdout).to.equal("");
      expect(run.stderr).to.match(/invalid grant: meshexec_targets\[0\] "web-\[12\]" must be at most 253 characters: a hostname glob/);
    });
  });
});
