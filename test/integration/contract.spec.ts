import { connect } from "node:net";
import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { expect } from "chai";
import { execLimits } from "../../src/contract/index.js";
import type { ExecContainerRequest } from "../../src/gen/meshexec/v1/exec.js";
import { expectErrorShape } from "../support/error-shape.js";
import { GrpcCaller } from "../support/grpc-exec.js";
import { streamingRequest } from "../support/streaming-request.js";
import { TestContainers } from "../support/test-containers.js";
import { TestStack, type HttpReply } from "../support/test-stack.js";
import { waitFor } from "../support/wait-for.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const execPath = (target: string, id: string) => `/node/${encodeURIComponent(target)}/container/docker/${encodeURIComponent(id)}/exec`;

/** One request: the path's target and container id, and a body that is JSON unless given raw. */
interface ExecInput {
  target?: string;
  id?: string;
  body?: Record<string, unknown>;
  rawBody?: string;
}

interface BadInput extends ExecInput {
  name: string;
  /** What `details` must mention: the field (or part) that was wrong. */
  field: string;
  /** JSON-only mistakes (types, shape, syntax) cannot be said in protobuf, so they run over REST only. */
  restOnly?: true;
}

/**
 * Every way the issue says a request can be wrong. Defaults are a good request on a connected
 * agent and a running container, so a case that wrongly passed validation would come back 202.
 */
const badInputs: BadInput[] = [
  ...["", "_other", "_", "_ANY", "a:b:c", ":web", "role:", "role:we/b", "-lead", "trail-", "a..b", "host.", "host_name", "héllo", "a".repeat(64)].map(
    (target) => ({ name: `target ${JSON.stringify(target)}`, target, field: "target" }),
  ),
  { name: "a 254-character hostname", target: `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(62)}`, field: "target" },
  ...["", "-x", ".x", "_x", "a/b", "a b", "a:b", "ü", "a".repeat(129)].map((id) => ({
    name: `container id ${JSON.stringify(id.slice(0, 20))}`,
    id,
    field: "container_id",
  })),
  { name: "no command", body: {}, field: "command" },
  { name: "an empty command", body: { command: [] }, field: "command" },
  { name: "an empty program", body: { command: [""] }, field: "command[0]" },
  { name: "257 arguments", body: { command: Array(257).fill("x") }, field: "command" },
  { name: "an argument of 64 KiB + 1 byte", body: { command: ["true", "x".repeat(64 * KiB + 1)] }, field: "command[1]" },
  { name: "an argument of 64 KiB + 2 bytes in 32,769 characters", body: { command: ["true", "é".repeat(32 * KiB + 1)] }, field: "command[1]" },
  { name: "a command that is a string", body: { command: "ls -l" }, field: "command", restOnly: true },
  { name: "a command with a number", body: { command: ["sleep", 1] }, field: "command[1]", restOnly: true },
  { name: "a null command", body: { command: null }, field: "command", restOnly: true },
  { name: "an env entry without =", body: { command: ["true"], env: ["NOEQUALS"] }, field: "env[0]" },
  { name: "an env key starting with a digit", body: { command: ["true"], env: ["A=1", "1B=2"] }, field: "env[1]" },
  { name: "an empty env key", body: { command: ["true"], env: ["=v"] }, field: "env[0]" },
  { name: "an env key with a dash", body: { command: ["true"], env: ["BAD-KEY=v"] }, field: "env[0]" },
  { name: "env as a string", body: { command: ["true"], env: "A=1" }, field: "env", restOnly: true },
  { name: "an env entry that is a number", body: { command: ["true"], env: [1] }, field: "env[0]", restOnly: true },
  ...["tmp", "./x", "~/x"].map((dir) => ({ name: `working_dir ${JSON.stringify(dir)}`, body: { command: ["true"], working_dir: dir }, field: "working_dir" })),
  { name: "working_dir as a number", body: { command: ["true"], working_dir: 5 }, field: "working_dir", restOnly: true },
  ...[0, 3601].map((t) => ({ name: `timeout_seconds ${t}`, body: { command: ["true"], timeout_seconds: t }, field: "timeout_seconds" })),
  ...[1.5, -1, "10", null].map((t) => ({
    name: `timeout_seconds ${JSON.stringify(t)}`,
    body: { command: ["true"], timeout_seconds: t },
    field: "timeout_seconds",
    restOnly: true as const,
  })),
  { name: "unknown fields, named", body: { command: ["true"], cmd: ["ls"], Env: [] }, field: '"cmd", "Env"', restOnly: true },
  ...(["[]", '"command"', "42", "null", "true"] as const).map((raw) => ({
    name: `a body of ${raw}`,
    rawBody: raw,
    field: "JSON object",
    restOnly: true as const,
  })),
  ...["{", "{'command':['true']}", '{"command":["true"],}', "", "   ", '{"command":["tr\u0001ue"]}'].map((raw) => ({
    name: `malformed JSON ${JSON.stringify(raw)}`,
    rawBody: raw,
    field: "not valid JSON",
    restOnly: true as const,
  })),
];

/** Requests right at the limits: they must pass validation and run. */
const goodAtTheLimits: Array<{ name: string; body: Record<string, unknown> }> = [
  { name: "256 arguments", body: { command: ["true", ...Array(255).fill("x")] } },
  { name: "an argument of exactly 64 KiB", body: { command: ["true", "x".repeat(64 * KiB)] } },
  { name: "env with an empty value and a value holding =", body: { command: ["true"], env: ["A=", "_X1=a=b"] } },
  { name: "working_dir /", body: { command: ["true"], working_dir: "/" } },
  { name: "timeout_seconds 3600", body: { command: ["true"], timeout_seconds: 3600 } },
  { name: "timeout_seconds 1", body: { command: ["true"], timeout_seconds: 1 } },
];

/** The same request over gRPC; only called for cases that protobuf can express. */
function grpcRequestOf(input: ExecInput, defaults: { target: string; id: string }): Partial<ExecContainerRequest> {
  const body = (input.body ?? {}) as { command?: string[]; env?: string[]; working_dir?: string; timeout_seconds?: number };
  return {
    target: input.target ?? defaults.target,
    containerId: input.id ?? defaults.id,
    command: body.command ?? [],
    env: body.env ?? [],
    workingDir: body.working_dir ?? "",
    timeoutSeconds: body.timeout_seconds,
  };
}

describe("API contract: validation, error shapes and status codes (real router, edge, agents, Docker)", function () {
  this.timeout(60_000);
  const containers = new TestContainers();
  let stack: TestStack;
  let grpc: GrpcCaller;
  let token: string;
  let running: string;
  let stopped: string;
  let paused: string;
  const absent = `meshexec-absent-${randomUUID().slice(0, 8)}`;

  before(async () => {
    let names: string[];
    [stack, names] = await Promise.all([
      TestStack.start([
        { hostname: "node-a", labels: { role: "web" } },
        { hostname: "node-b", labels: { role: "web", _tier: "gold" } },
        { hostname: "node-c", labels: { role: "db" } },
      ]),
      Promise.all([containers.start(), containers.start(), containers.start()]),
    ]);
    [running, stopped, paused] = names;
    await Promise.all([containers.docker.getContainer(stopped).stop({ t: 0 }), containers.docker.getContainer(paused).pause()]);
    grpc = new GrpcCaller(stack.routerAddress);
    token = await stack.token();
  });
  after(async () => {
    grpc?.close();
    await stack?.stop();
    await containers.removeAll();
  });

  const send = (input: ExecInput, headers: Record<string, string> = {}): Promise<HttpReply> =>
    stack.request("POST", execPath(input.target ?? "node-a", input.id ?? running), {
      token,
      headers: { "content-type": "application/json", ...headers },
      body: input.rawBody ?? JSON.stringify(input.body ?? { command: ["true"] }),
    });

  describe("bad input is 400 naming the field, over REST and over gRPC with the same message", () => {
    for (const input of badInputs) {
      it(`REST: ${input.name}`, async () => {
        const error = expectErrorShape(await send(input), 400);
        expect(error.details).to.include(input.field);
      });
      if (input.restOnly) continue;
      it(`gRPC: ${input.name}`, async () => {
        const [rest, reply] = await Promise.all([send(input), grpc.exec(grpcRequestOf(input, { target: "node-a", id: running }), token)]);
        expect(reply.code, reply.message).to.equal(status.INVALID_ARGUMENT);
        expect(reply.details).to.include(input.field);
        expect({ error: reply.error, details: reply.details }).to.deep.equal({ error: rest.body.error, details: rest.body.details });
        expect(reply.message).to.equal(`${rest.body.error}: ${rest.body.details}`);
      });
    }

    for (const { name, body } of goodAtTheLimits) {
      it(`accepts ${name}, over REST and gRPC`, async () => {
        const [rest, reply] = await Promise.all([send({ body }), grpc.exec(grpcRequestOf({ body }, { target: "node-a", id: running }), token)]);
        expect(rest.status, JSON.stringify(rest.body).slice(0, 300)).to.equal(202);
        expect(rest.body.results[0]).to.include({ status: "ok", exit_code: 0 });
        expect(reply.code, reply.message).to.equal(status.OK);
        expect(reply.response!.results[0]).to.include({ status: "ok", exitCode: 0 });
      });
    }

    it("accepts a 253-character hostname and a 128-character container id (then finds neither)", async () => {
      const hostname = `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`;
      expect(expectErrorShape(await send({ target: hostname }), 404).error).to.equal("no agent matches the target");
      expect(expectErrorShape(await send({ id: "a".repeat(128) }), 404).error).to.equal("container not found");
    });

    it("reads a label selector whose key starts with _ as a selector, not a reserved name", async () => {
      const reply = await send({ target: "_tier:gold" });
      expect(reply.status).to.equal(202);
      expect(reply.body.results.map((r: { hostname: string }) => r.hostname)).to.deep.equal(["node-b"]);
    });

    it("never quotes env values or the body back in details", async () => {
      const secret = `s3cr3t-${randomUUID()}`;
      for (const input of [
        { body: { command: ["true"], env: [`PASSWORD${secret}`] } },
        { body: { command: ["true"], env: [`BAD KEY=${secret}`] } },
        { body: { command: ["true"], env: [Number.MAX_SAFE_INTEGER] } },
        { rawBody: `{"command":["true"],"env":["K=${secret}"], oops}` },
        { rawBody: `${secret}` },
      ]) {
        const reply = await send(input);
        expectErrorShape(reply, 400);
        expect(JSON.stringify(reply.body)).not.to.include(secret).and.not.to.include(String(Number.MAX_SAFE_INTEGER));
      }
    });
  });

  describe("the edge's own HTTP errors share the shape", () => {
    const cases: Array<{ name: string; method: string; path: string; status: number; allow?: string; headers?: Record<string, string>; body?: string }> = [
      { name: "an unknown path", method: "GET", path: "/nope", status: 404 },
      { name: "a path past the exec route", method: "POST", path: "/node/node-a/container/docker/x/exec/more", status: 404 },
      { name: "another runtime than docker", method: "POST", path: "/node/node-a/container/podman/x/exec", status: 404 },
      { name: "a trailing slash on /agents", method: "GET", path: "/agents/", status: 404 },
      { name: "GET on the exec route", method: "GET", path: "/node/node-a/container/docker/x/exec", status: 405, allow: "POST" },
      { name: "PUT on the exec route", method: "PUT", path: "/node/node-a/container/docker/x/exec", status: 405, allow: "POST" },
      { name: "POST on /agents", method: "POST", path: "/agents", status: 405, allow: "GET" },
      { name: "DELETE on /health", method: "DELETE", path: "/health", status: 405, allow: "GET" },
    ];
    for (const c of cases) {
      it(`${c.status} for ${c.name}`, async () => {
        const reply = await stack.request(c.method, c.path, { token, headers: c.headers, body: c.body });
        const error = expectErrorShape(reply, c.status);
        expect(error.details).to.include(c.path);
        if (c.allow) expect(reply.headers.get("allow")).to.equal(c.allow);
      });
    }

    it("415 for a body with no Content-Type", async () => {
      const reply = await stack.request("POST", execPath("node-a", running), { token });
      expect(expectErrorShape(reply, 415).details).to.include("Content-Type").and.include("none");
    });

    for (const type of ["text/plain", "application/x-www-form-urlencoded", "application/jsonx", "multipart/form-data; boundary=x"]) {
      it(`415 for Content-Type ${type}, naming it`, async () => {
        const reply = await stack.request("POST", execPath("node-a", running), {
          token,
          headers: { "content-type": type },
          body: JSON.stringify({ command: ["true"] }),
        });
        const error = expectErrorShape(reply, 415);
        expect(error.details).to.include("Content-Type").and.include(type);
      });
    }

    const BODY_LIMIT = execLimits.maxBodyBytes;
    it("accepts application/json with a charset, and exactly the body limit", async () => {
      const body = JSON.stringify({ command: ["true", ...Array(15).fill("x".repeat(64 * KiB))] });
      const padded = body + " ".repeat(BODY_LIMIT - Buffer.byteLength(body));
      expect(Buffer.byteLength(padded)).to.equal(BODY_LIMIT);
      const reply = await send({ rawBody: padded }, { "content-type": "application/json; charset=utf-8" });
      expect(reply.status, JSON.stringify(reply.body).slice(0, 300)).to.equal(202);
    });

    it("413 for the body limit + 1 byte, sized by Content-Length", async () => {
      const body = JSON.stringify({ command: ["true"] });
      const error = expectErrorShape(await send({ rawBody: body + " ".repeat(BODY_LIMIT + 1 - body.length) }), 413);
      expect(error.details).to.include(String(BODY_LIMIT));
    });

    const earlyRefusals = [
      { status: 401, path: () => execPath("node-a", running), authorization: "Bearer garbage" },
      { status: 413, path: () => execPath("node-a", running), authorization: "" },
      { status: 404, path: () => "/nowhere", authorization: "" },
    ];
    for (const refusal of earlyRefusals) {
      it(`answers ${refusal.status} while a 5 MiB body is still coming, reads the rest, and keeps the connection`, async () => {
        const socket = connect(stack.gatewayPort, "127.0.0.1");
        let received = "";
        socket.on("data", (chunk) => (received += chunk));
        const bodyBytes = 5 * MiB;
        socket.write(
          `POST ${refusal.path()} HTTP/1.1\r\nHost: x\r\nAuthorization: ${refusal.authorization || `Bearer ${token}`}\r\n` +
            `Content-Type: application/json\r\nContent-Length: ${bodyBytes}\r\n\r\n${" ".repeat(64 * KiB)}`,
        );
        // The refusal arrives while most of the body has not been sent yet.
        await waitFor(`the ${refusal.status}`, () => received.includes(`"code":${refusal.status}`));
        expect(received).to.match(new RegExp(`^HTTP/1\\.1 ${refusal.status} `));
        expect(received).to.not.match(/connection: close/i);
        socket.write(" ".repeat(bodyBytes - 64 * KiB));
        socket.write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
        const afterRefusal = () => received.slice(received.indexOf(`"code":${refusal.status}`));
        await waitFor("the next answer on the same connection", () => /HTTP\/1\.1 200 [\s\S]*"status":"ok"/.test(afterRefusal()));
        socket.destroy();
      });
    }

    it("413 for a chunked body past the body limit, with no Content-Length to go by", async () => {
      const chunks = ['{"command":["true"]}', ...Array(BODY_LIMIT / (64 * KiB) + 8).fill(" ".repeat(64 * KiB))];
      const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
      const reply = await streamingRequest(stack.gatewayUrl + execPath("node-a", running), headers, chunks, { endBody: true });
      expect(expectErrorShape(reply, 413).details).to.include(String(BODY_LIMIT));
    });
  });

  describe("no agent matches the target: 404 naming it", () => {
    for (const target of ["no-such-host", "role:none", "zone:east"]) {
      it(`${target}, over REST and gRPC`, async () => {
        const [rest, reply] = await Promise.all([send({ target }), grpc.exec({ target, containerId: running, command: ["true"] }, token)]);
        const error = expectErrorShape(rest, 404);
        expect(error).to.include({ error: "no agent matches the target" });
        expect(error.details).to.include(target);
        expect(reply.code).to.equal(status.NOT_FOUND);
        expect(reply.message).to.equal(`${error.error}: ${error.details}`);
      });
    }
  });

  describe("container states", () => {
    const singleHostCases = [
      { state: "absent", container: () => absent, http: 404, grpcCode: status.NOT_FOUND, error: "container not found" },
      { state: "stopped", container: () => stopped, http: 409, grpcCode: status.FAILED_PRECONDITION, error: "container not running" },
      { state: "paused", container: () => paused, http: 409, grpcCode: status.FAILED_PRECONDITION, error: "container not running" },
    ];
    for (const target of ["node-a", "_any"]) {
      for (const c of singleHostCases) {
        it(`${target}, ${c.state} container: ${c.http} "${c.error}" (gRPC ${status[c.grpcCode]})`, async () => {
          const id = c.container();
          const [rest, reply] = await Promise.all([send({ target, id }), grpc.exec({ target, containerId: id, command: ["true"] }, token)]);
          const error = expectErrorShape(rest, c.http);
          expect(error.error).to.equal(c.error);
          expect(error.details).to.include(id);
          expect(reply.code, reply.message).to.equal(c.grpcCode);
          expect(reply.error).to.equal(c.error);
          expect(reply.details).to.include(id);
        });
      }
    }

    for (const { target, hosts } of [
      { target: "_all", hosts: ["node-a", "node-b", "node-c"] },
      { target: "role:web", hosts: ["node-a", "node-b"] },
    ]) {
      for (const c of singleHostCases) {
        it(`${target}, ${c.state} container: 202, each host "failed" with the error and changed false`, async () => {
          const id = c.container();
          const [rest, reply] = await Promise.all([send({ target, id }), grpc.exec({ target, containerId: id, command: ["true"] }, token)]);
          expect(rest.status, JSON.stringify(rest.body)).to.equal(202);
          expect(rest.body.results.map((r: { hostname: string }) => r.hostname)).to.deep.equal(hosts);
          for (const result of rest.body.results) {
            expect(result).to.include({ status: "failed", changed: false }).and.not.have.property("exit_code");
            expect(result.error).to.include(id);
          }
          expect(reply.code, reply.message).to.equal(status.OK);
          expect(reply.response!.results.map((r) => [r.hostname, r.status, r.changed])).to.deep.equal(hosts.map((h) => [h, "failed", false]));
        });
      }
    }
  });
});

describe("API contract: a fleet with no agents", function () {
  this.timeout(30_000);
  let stack: TestStack;
  let grpc: GrpcCaller;
  before(async () => {
    stack = await TestStack.start([]);
    grpc = new GrpcCaller(stack.routerAddress);
  });
  after(async () => {
    grpc?.close();
    await stack?.stop();
  });

  for (const target of ["_any", "_all"]) {
    it(`${target}: 404 naming the target, over REST and gRPC`, async () => {
      const token = await stack.token();
      const [rest, reply] = await Promise.all([
        stack.exec(target, "web", { command: ["true"] }),
        grpc.exec({ target, containerId: "web", command: ["true"] }, token),
      ]);
      expect(expectErrorShape(rest, 404).details).to.include(target);
      expect(reply.code).to.equal(status.NOT_FOUND);
      expect(reply.details).to.equal(rest.body.details);
    });
  }
});

describe("API contract: the router is unreachable from the edge", function () {
  this.timeout(30_000);
  let stack: TestStack;
  before(async () => {
    stack = await TestStack.start([]);
    await stack.router.stop("SIGKILL");
  });
  after(() => stack?.stop());

  it("exec is 503 in the error shape, and the edge keeps answering", async () => {
    const error = expectErrorShape(await stack.exec("_any", "web", { command: ["true"] }), 503);
    expect(error.error).to.equal("router unavailable");
    expect(stack.gateway.running).to.equal(true);
  });

  it("GET /agents is 503 too", async () => {
    expectErrorShape(await stack.request("GET", "/agents", { token: await stack.token() }), 503);
  });

  it("/health is 503", async () => {
    const reply = await waitFor("/health to report the router down", async () => {
      const r = await stack.request("GET", "/health");
      return r.status !== 200 && r;
    });
    expectErrorShape(reply, 503);
  });

  it("auth is still checked first: no token is 401, not 503", async () => {
    expectErrorShape(await stack.request("POST", execPath("_any", "web"), { json: { command: ["true"] } }), 401);
  });
});
