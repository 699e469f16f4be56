import { Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { expect } from "chai";
import { pino } from "pino";
import { Writable } from "node:stream";
import { createTokenVerifier, loadVerificationKey, loadSigningKey, mintToken } from "../src/auth/index.js";
import { execLimits } from "../src/contract/index.js";
import { GrpcStatus, MeshError, fromServiceError } from "../src/errors/index.js";
import type { HostResult } from "../src/gen/meshexec/v1/exec.js";
import { createMetricsRegistry } from "../src/metrics/index.js";
import { createGatewayApp } from "./app.js";
import { FakeRouter } from "../test/support/fake-router.js";

const SECRET = "app-spec-secret-of-at-least-32-bytes!";

/** The edge app in this process, against a fake router, with its log lines collected. */
function edge(router: FakeRouter) {
  const logs: Array<Record<string, any>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const app = createGatewayApp({
    router,
    verifier: createTokenVerifier(loadVerificationKey({ secret: SECRET }), { maxLifetimeMs: 3_600_000 }),
    log: pino({ level: "debug" }, sink),
    metrics: createMetricsRegistry(),
  });
  return { app, logs };
}

const token = (scopes: string[]) => mintToken(loadSigningKey({ secret: SECRET }), { subject: "spec", scopes, ttlMs: 60_000 });
const EXEC_PATH = "/node/_any/container/docker/demo/exec";
const okResult: HostResult = {
  hostname: "web-1",
  status: "ok",
  stdout: "hi\n",
  stderr: "",
  exitCode: 0,
  changed: true,
  error: "",
  durationMs: 3,
  stdoutTruncated: false,
  stderrTruncated: false,
};

async function execRequest(app: ReturnType<typeof edge>["app"], options: { query?: string; body?: string; headers?: Record<string, string> } = {}) {
  return app.request(`${EXEC_PATH}${options.query ?? ""}`, {
    method: "POST",
    headers: { authorization: `Bearer ${await token(["docker:execute"])}`, "content-type": "application/json", ...options.headers },
    body: options.body ?? JSON.stringify({ command: ["echo", "hi"] }),
  });
}

describe("the edge in-process, against a fake router", () => {
  describe("error mapping", () => {
    it("answers a router's refusal with its HTTP status and the one error shape", async () => {
      const router = new FakeRouter({
        execContainer: () => Promise.reject(new MeshError(GrpcStatus.NOT_FOUND, "no agent matches the target", 'target "_any": no agent is connected')),
      });
      const reply = await execRequest(edge(router).app);
      expect(reply.status).to.equal(404);
      expect(await reply.json()).to.deep.equal({ error: "no agent matches the target", details: 'target "_any": no agent is connected', code: 404 });
    });

    it("sends Retry-After with a 429 that says when to retry", async () => {
      const router = new FakeRouter({
        execContainer: () => Promise.reject(new MeshError(GrpcStatus.RESOURCE_EXHAUSTED, "rate limited", "20 execs/s", { retryAfterSeconds: 3 })),
      });
      const reply = await execRequest(edge(router).app);
      expect(reply.status).to.equal(429);
      expect(reply.headers.get("retry-after")).to.equal("3");
    });

    it("answers a router that cannot be reached 503, and logs grpc-js's error as the cause", async () => {
      const unreachable: ServiceError = Object.assign(new Error("14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED 127.0.0.1:1"), {
        code: status.UNAVAILABLE,
        details: "No connection established",
        metadata: new Metadata(),
      });
      const { app, logs } = edge(new FakeRouter({ listAgents: () => Promise.reject(fromServiceError(unreachable)) }));
      const reply = await app.request("/agents", { headers: { authorization: `Bearer ${await token(["agent:read"])}` } });
      expect(reply.status).to.equal(503);
      expect(await reply.json()).to.include({ error: "router unavailable" });
      const logged = logs.find((line) => line.msg === "router call failed");
      expect(logged?.err.stack).to.include("caused by: Error: 14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED");
    });

    it("answers a bug 500 in the error shape, never its message, and logs it", async () => {
      const { app, logs } = edge(new FakeRouter({ getJob: () => Promise.reject(new TypeError("secret internals")) }));
      const reply = await app.request("/job/j1", { headers: { authorization: `Bearer ${await token(["job:read"])}` } });
      expect(reply.status).to.equal(500);
      expect(await reply.json()).to.include({ error: "internal error", code: 500 });
      expect(logs.map((line) => line.msg)).to.include("edge handler failed");
    });
  });

  describe("405", () => {
    it("answers a method a route does not take with 405 and Allow, before auth", async () => {
      const { app } = edge(new FakeRouter());
      const wrongMethods: Array<[string, string, string]> = [
        ["GET", EXEC_PATH, "POST"],
        ["DELETE", "/jobs", "GET"],
        ["PUT", "/agents/web-1/revoke", "POST"],
        ["POST", "/health", "GET"],
      ];
      for (const [method, path, allowed] of wrongMethods) {
        const reply = await app.request(path, { method });
        expect(reply.status, `${method} ${path}`).to.equal(405);
        expect(reply.headers.get("allow")).to.equal(allowed);
        expect(await reply.json()).to.deep.equal({ error: "method not allowed", details: `${method} is not allowed on ${path}; use ${allowed}`, code: 405 });
      }
    });
  });

  describe("auth before the body", () => {
    /** A body that records whether anything read it (highWaterMark 0: nothing is pulled ahead of a read). */
    function watchedBody() {
      const watched = { read: false };
      const body = new ReadableStream(
        {
          pull(controller) {
            watched.read = true;
            controller.enqueue(new TextEncoder().encode('{"command":["true"]}'));
            controller.close();
          },
        },
        { highWaterMark: 0 },
      );
      return { body, watched };
    }

    it("refuses a missing token (401) and a token without the scope (403) without reading the body or calling the router", async () => {
      const router = new FakeRouter();
      const { app } = edge(router);
      const missing = watchedBody();
      const noToken = await app.request(EXEC_PATH, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: missing.body,
        duplex: "half",
      } as RequestInit);
      expect(noToken.status).to.equal(401);
      expect(noToken.headers.get("www-authenticate")).to.equal("Bearer");
      const wrongScope = watchedBody();
      const reply = await app.request(EXEC_PATH, {
        method: "POST",
        headers: { authorization: `Bearer ${await token(["agent:read"])}`, "content-type": "application/json" },
        body: wrongScope.body,
        duplex: "half",
      } as RequestInit);
      expect(reply.status).to.equal(403);
      expect(reply.headers.get("www-authenticate")).to.equal('Bearer error="insufficient_scope"');
      expect([missing.watched.read, wrongScope.watched.read]).to.deep.equal([false, false]);
      expect(router.calls).to.deep.equal([]);
    });
  });

  describe("bodies", () => {
    it("answers 413 for a declared length past the limit without reading it, and for a chunked body that grows past it", async () => {
      const router = new FakeRouter();
      const { app } = edge(router);
      const declared = await execRequest(app, { headers: { "content-length": String(execLimits.maxBodyBytes + 1) }, body: "{}" });
      expect(declared.status).to.equal(413);
      const chunk = new TextEncoder().encode(" ".repeat(64 * 1024));
      let sent = 0;
      const endless = new ReadableStream(
        {
          pull(controller) {
            sent += chunk.length;
            controller.enqueue(chunk);
          },
        },
        { highWaterMark: 0 },
      );
      const chunked = await app.request(EXEC_PATH, {
        method: "POST",
        headers: { authorization: `Bearer ${await token(["docker:execute"])}`, "content-type": "application/json", "transfer-encoding": "chunked" },
        body: endless,
        duplex: "half",
      } as RequestInit);
      expect(chunked.status).to.equal(413);
      expect(await chunked.json()).to.include({ error: "request body too large" });
      // It stopped reading at the limit, give or take what the streams buffer.
      expect(sent).to.be.below(execLimits.maxBodyBytes + 4 * chunk.length);
      expect(router.calls).to.deep.equal([]);
    });

    it("answers 415 for a body that is not JSON, and 400 naming the problem for malformed JSON", async () => {
      const { app } = edge(new FakeRouter());
      expect((await execRequest(app, { headers: { "content-type": "text/plain" } })).status).to.equal(415);
      const malformed = await execRequest(app, { body: '{"command": [' });
      expect(malformed.status).to.equal(400);
      expect(await malformed.json()).to.include({ error: "malformed JSON" });
    });

    it("answers 499 (CANCELLED), not a failure of the edge, when a chunked body stops arriving and the client goes", async () => {
      const { app, logs } = edge(new FakeRouter());
      const gone = new AbortController();
      // As @hono/node-server's request body does when its client goes: it errors, and the signal aborts.
      const stalled = new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"command":'));
          gone.signal.addEventListener("abort", () => controller.error(Object.assign(new Error("aborted"), { code: "ECONNRESET" })));
        },
      });
      const request = new Request(`http://edge${EXEC_PATH}`, {
        method: "POST",
        headers: { authorization: `Bearer ${await token(["docker:execute"])}`, "content-type": "application/json" },
        body: stalled,
        duplex: "half",
        signal: gone.signal,
      } as RequestInit);
      const replying = app.request(request);
      setImmediate(() => gone.abort());
      const reply = await replying;
      expect(reply.status).to.equal(499);
      expect(logs.filter((line) => line.level >= 50)).to.deep.equal([]);
    });
  });

  describe("streaming (?stream=true)", () => {
    it("frames each event as one JSON line, in order, and a failure mid-stream as a last error line", async () => {
      const router = new FakeRouter({
        streamExecContainer: async function* () {
          yield { event: { $case: "accepted", value: { jobId: "j1", hosts: ["web-1", "web-2"] } } };
          yield { event: { $case: "result", value: okResult } };
          throw new MeshError(GrpcStatus.UNAVAILABLE, "router unavailable", "the stream broke");
        },
      });
      const reply = await execRequest(edge(router).app, { query: "?stream=true" });
      expect(reply.status).to.equal(200);
      expect(reply.headers.get("content-type")).to.equal("application/x-ndjson");
      const text = await reply.text();
      expect(text.endsWith("\n")).to.equal(true);
      const lines = text
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line));
      expect(lines.map((line) => line.type)).to.deep.equal(["accepted", "result", "error"]);
      expect(lines[0]).to.deep.equal({ type: "accepted", job_id: "j1", hosts: ["web-1", "web-2"] });
      expect(lines[1].result).to.include({ hostname: "web-1", stdout: "hi\n", exit_code: 0 });
      expect(lines[2]).to.deep.equal({ type: "error", error: "router unavailable", details: "the stream broke", code: 503 });
    });

    it("answers a refusal before the first event with its own status, not a stream", async () => {
      const router = new FakeRouter({
        streamExecContainer: async function* () {
          throw new MeshError(GrpcStatus.PERMISSION_DENIED, "target not allowed", "the token's meshexec_targets do not include web-9");
        },
      });
      const reply = await execRequest(edge(router).app, { query: "?stream=true" });
      expect(reply.status).to.equal(403);
      expect(reply.headers.get("content-type")).to.match(/^application\/json/);
    });
  });
});
