import { execFile } from "node:child_process";
import { generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { status } from "@grpc/grpc-js";
import { expect } from "chai";
import { SignJWT, decodeJwt, exportJWK, type JWTPayload } from "jose";
import { execLimits } from "../../src/contract/index.js";
import { expectErrorShape } from "../support/error-shape.js";
import { GrpcCaller, type GrpcReply } from "../support/grpc-exec.js";
import { MeshexecProcess } from "../support/meshexec-process.js";
import { streamingRequest } from "../support/streaming-request.js";
import { TestContainers } from "../support/test-containers.js";
import { TestStack, type HttpReply } from "../support/test-stack.js";
import { waitFor } from "../support/wait-for.js";

const CLI = new URL("../../dist/src/cli/main.js", import.meta.url).pathname;
const EXEC = "docker:execute";
const READ = "agent:read";
const now = () => Math.floor(Date.now() / 1000);
const execPath = (target: string, id: string) => `/node/${target}/container/docker/${id}/exec`;

/** Signs claims as given: nothing added, so each case controls exp, nbf, iss, aud and the scopes. */
function sign(key: Uint8Array | KeyObject, alg: string, claims: JWTPayload): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, typ: "JWT" }).sign(key);
}

/** An unsecured JWT (RFC 7519 §6): no signature at all. */
function unsignedToken(claims: JWTPayload): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "none", typ: "JWT" })}.${part(claims)}.`;
}

const grpcStatusByHttp: Record<number, status> = { 200: status.OK, 202: status.OK, 401: status.UNAUTHENTICATED, 403: status.PERMISSION_DENIED };

/** What a caller presents: an Authorization header value, or nothing. */
type Presented = string | undefined;
const bearer = (token: string): Presented => `Bearer ${token}`;

interface Expected {
  http: 200 | 202 | 401 | 403;
  /** What the error's details must say. */
  details?: string;
}

/**
 * Makes the same call over REST and over gRPC, with the same credentials, and checks both
 * answers: the status, the shape, WWW-Authenticate on a 401, and the same message on both.
 */
async function expectBoth(
  stack: TestStack,
  grpc: GrpcCaller,
  call: { exec?: { target: string; container: string } },
  presented: Presented,
  expected: Expected,
) {
  const headers: Record<string, string> = presented === undefined ? {} : { authorization: presented };
  const credentials = presented === undefined ? undefined : { authorization: presented };
  let rest: HttpReply;
  let reply: GrpcReply<unknown>;
  if (call.exec) {
    const { target, container } = call.exec;
    [rest, reply] = await Promise.all([
      stack.request("POST", execPath(target, container), { headers, json: { command: ["true"] } }),
      grpc.exec({ target, containerId: container, command: ["true"] }, credentials),
    ]);
  } else {
    [rest, reply] = await Promise.all([stack.request("GET", "/agents", { headers }), grpc.listAgents(credentials)]);
  }
  expect(reply.code, reply.message).to.equal(grpcStatusByHttp[expected.http]);
  if (expected.http < 400) {
    expect(rest.status, JSON.stringify(rest.body)).to.equal(expected.http);
    return;
  }
  const error = expectErrorShape(rest, expected.http);
  if (expected.details) expect(error.details).to.include(expected.details);
  expect(reply.message).to.equal(`${error.error}: ${error.details}`);
  if (expected.http === 401) {
    expect(rest.headers.get("www-authenticate")).to.match(presented === undefined ? /^Bearer$/ : /^Bearer error="invalid_token"$/);
  }
}

const keyDir = mkdtempSync(join(tmpdir(), "meshexec-auth-"));
const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const otherRsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
const otherEc = generateKeyPairSync("ec", { namedCurve: "P-256" });
const rsaPublicPem = rsa.publicKey.export({ type: "spki", format: "pem" }).toString();
const files = {
  rsaPublic: join(keyDir, "rsa-public.pem"),
  rsaPrivate: join(keyDir, "rsa-private.pem"),
  jwks: join(keyDir, "jwks.json"),
};

after(() => rmSync(keyDir, { recursive: true, force: true }));

describe("authentication and authorization (real router, edge and agent)", function () {
  this.timeout(60_000);
  const containers = new TestContainers();
  let stack: TestStack;
  let grpc: GrpcCaller;
  let box: string;
  /** Every credential and secret this describe sends, so that the last test can look for them in the logs. */
  const sent = new Set<string>();
  const secretKey = () => new TextEncoder().encode(stack.secret);
  const wrongKey = new TextEncoder().encode(randomBytes(24).toString("base64url"));

  before(async () => {
    [stack, box] = await Promise.all([TestStack.start([{ hostname: "node-a" }]), containers.start()]);
    grpc = new GrpcCaller(stack.routerAddress);
  });
  after(async () => {
    grpc?.close();
    await stack?.stop();
    await containers.removeAll();
  });

  const claims = (extra: JWTPayload = {}): JWTPayload => ({ sub: "alice", scope: `${EXEC} ${READ}`, iat: now(), exp: now() + 600, ...extra });
  const cases: Array<{ name: string; presented: () => Promise<Presented>; exec: Expected; agents: Expected }> = [
    { name: "no token", presented: async () => undefined, exec: { http: 401, details: "no Authorization header" }, agents: { http: 401 } },
    { name: "another scheme than Bearer", presented: async () => "Basic YWxpY2U6c2VjcmV0", exec: { http: 401, details: "Bearer" }, agents: { http: 401 } },
    { name: "Bearer with nothing after it", presented: async () => "Bearer", exec: { http: 401 }, agents: { http: 401 } },
    { name: "a garbage token", presented: async () => bearer("garbage"), exec: { http: 401, details: "malformed" }, agents: { http: 401 } },
    { name: "three parts of garbage", presented: async () => bearer("a.b.c"), exec: { http: 401 }, agents: { http: 401 } },
    {
      name: "a token signed with the wrong key",
      presented: async () => bearer(await sign(wrongKey, "HS256", claims())),
      exec: { http: 401, details: "signature" },
      agents: { http: 401 },
    },
    {
      name: "a token with a tampered payload",
      presented: async () => {
        const [header, , signature] = (await sign(secretKey(), "HS256", claims({ scope: READ }))).split(".");
        return bearer(`${header}.${Buffer.from(JSON.stringify(claims())).toString("base64url")}.${signature}`);
      },
      exec: { http: 401, details: "signature" },
      agents: { http: 401 },
    },
    {
      name: "an expired token (past the 30 s skew)",
      presented: async () => bearer(await sign(secretKey(), "HS256", claims({ exp: now() - 45 }))),
      exec: { http: 401, details: "expired" },
      agents: { http: 401 },
    },
    {
      name: "a token expired less than 30 s ago (within the skew)",
      presented: async () => bearer(await sign(secretKey(), "HS256", claims({ exp: now() - 15 }))),
      exec: { http: 202 },
      agents: { http: 200 },
    },
    {
      name: "a token not yet valid (nbf past the 30 s skew)",
      presented: async () => bearer(await sign(secretKey(), "HS256", claims({ nbf: now() + 45 }))),
      exec: { http: 401, details: "not yet valid" },
      agents: { http: 401 },
    },
    {
      name: "a token valid in less than 30 s (within the skew)",
      presented: async () => bearer(await sign(secretKey(), "HS256", claims({ nbf: now() + 15 }))),
      exec: { http: 202 },
      agents: { http: 200 },
    },
    {
      name: "a token without exp",
      presented: async () => bearer(await sign(secretKey(), "HS256", claims({ exp: undefined }))),
      exec: { http: 401, details: '"exp"' },
      agents: { http: 401 },
    },
    {
      name: "a token without sub",
      presented: async () => bearer(await sign(secretKey(), "HS256", claims({ sub: undefined }))),
      exec: { http: 401, details: '"sub"' },
      agents: { http: 401 },
    },
    {
      name: "a token with an empty sub",
      presented: async () => bearer(await sign(secretKey(), "HS256", claims({ sub: "" }))),
      exec: { http: 401, details: '"sub"' },
      agents: { http: 401 },
    },
    {
      name: "a token living 10 years (past --max-token-ttl)",
      presented: async () => bearer(await sign(secretKey(), "HS256", claims({ exp: now() + 3650 * 86_400 }))),
      exec: { http: 401, details: "--max-token-ttl" },
      agents: { http: 401 },
    },
    {
      name: "a token without iat nor nbf (its lifetime unknown)",
      presented: async () => bearer(await sign(secretKey(), "HS256", claims({ iat: undefined }))),
      exec: { http: 401, details: '"iat"' },
      agents: { http: 401 },
    },
    { name: "alg: none", presented: async () => bearer(unsignedToken(claims())), exec: { http: 401, details: "algorithm" }, agents: { http: 401 } },
    {
      name: "HS512 with the right secret (not the configured algorithm)",
      presented: async () => bearer(await sign(secretKey(), "HS512", claims())),
      exec: { http: 401, details: "algorithm" },
      agents: { http: 401 },
    },
    {
      name: "RS256 (not the configured algorithm)",
      presented: async () => bearer(await sign(rsa.privateKey, "RS256", claims())),
      exec: { http: 401, details: "algorithm" },
      agents: { http: 401 },
    },
    {
      name: "scope agent:read only",
      presented: async () => bearer(await sign(secretKey(), "HS256", claims({ scope: READ }))),
      exec: { http: 403, details: EXEC },
      agents: { http: 200 },
    },
    {
      name: "scope docker:execute only",
      presented: async () => bearer(await sign(secretKey(), "HS256", claims({ scope: EXEC }))),
      exec: { http: 202 },
      agents: { http: 403, details: READ },
    },
    {
      name: "a scope that only starts like the one needed",
      presented: async () => bearer(await sign(secretKey(), "HS256", claims({ scope: `${EXEC}x ${READ}x` }))),
      exec: { http: 403, details: EXEC },
      agents: { http: 403, details: READ },
    },
    {
      name: "no scope at all",
      presented: async () => bearer(await sign(secretKey(), "HS256", claims({ scope: undefined }))),
      exec: { http: 403, details: EXEC },
      agents: { http: 403, details: READ },
    },
    {
      name: "scopes in permissions (an array)",
      presented: async () => bearer(await sign(secretKey(), "HS256", claims({ scope: undefined, permissions: [EXEC, READ] }))),
      exec: { http: 202 },
      agents: { http: 200 },
    },
    {
      name: "docker:execute in permissions only",
      presented: async () => bearer(await sign(secretKey(), "HS256", claims({ scope: undefined, permissions: [EXEC] }))),
      exec: { http: 202 },
      agents: { http: 403, details: READ },
    },
    { name: "a good token", presented: async () => bearer(await sign(secretKey(), "HS256", claims())), exec: { http: 202 }, agents: { http: 200 } },
  ];

  for (const c of cases) {
    it(`${c.name}: exec ${c.exec.http}, GET /agents ${c.agents.http}, over REST and gRPC`, async () => {
      const presented = await c.presented();
      if (presented) sent.add(presented);
      await expectBoth(stack, grpc, { exec: { target: "node-a", container: box } }, presented, c.exec);
      await expectBoth(stack, grpc, {}, presented, c.agents);
    });
  }

  describe("auth comes before the body", () => {
    const badBodies: Array<{ name: string; headers: Record<string, string>; body: string }> = [
      { name: "malformed JSON", headers: { "content-type": "application/json" }, body: "{not json" },
      { name: "unknown fields", headers: { "content-type": "application/json" }, body: '{"cmd":1}' },
      { name: "an invalid command", headers: { "content-type": "application/json" }, body: '{"command":[""]}' },
      { name: "a text/plain body", headers: { "content-type": "text/plain" }, body: "hello" },
      { name: "a body over the limit", headers: { "content-type": "application/json" }, body: `{"command":["true"]}${" ".repeat(execLimits.maxBodyBytes)}` },
    ];
    for (const { name, headers, body } of badBodies) {
      it(`${name}: 401 with a bad token, 403 with a token lacking the scope`, async () => {
        const garbage = await stack.request("POST", execPath("node-a", box), { token: "garbage", headers, body });
        expectErrorShape(garbage, 401);
        const lacking = await stack.request("POST", execPath("node-a", box), { token: await stack.token([READ]), headers, body });
        expect(expectErrorShape(lacking, 403).details).to.include(EXEC);
      });
    }

    it("gRPC: a bad token with an invalid request is UNAUTHENTICATED, not INVALID_ARGUMENT", async () => {
      const reply = await grpc.exec({ target: "_bad", containerId: "/", command: [""], env: ["x"] }, "garbage");
      expect(reply.code, reply.message).to.equal(status.UNAUTHENTICATED);
    });

    it("the edge answers 401 without waiting for a body that never ends", async () => {
      const reply = await streamingRequest(
        stack.gatewayUrl + execPath("node-a", box),
        { authorization: "Bearer garbage", "content-type": "application/json" },
        ['{"command":["tr'],
        { endBody: false },
      );
      expectErrorShape(reply, 401);
      expect(reply.headers.get("connection")).to.equal("close");
    });
  });

  describe("meshexec token", () => {
    const mint = async (args: string[], env: Record<string, string>) => {
      const { stdout } = await promisify(execFile)(process.execPath, [CLI, "token", ...args], { env: { PATH: process.env.PATH, ...env } });
      return stdout.trim().split("\n").at(-1)!;
    };

    it("mints with the configured secret a token the stack accepts, with the scopes and ttl asked for", async () => {
      const token = await mint(["--subject", "alice", "--scope", EXEC, "--ttl", "1h"], { MESHEXEC_JWT_SECRET: stack.secret });
      sent.add(token);
      const payload = decodeJwt(token);
      expect(payload).to.include({ sub: "alice", scope: EXEC });
      expect(payload.exp! - payload.iat!).to.equal(3600);
      await expectBoth(stack, grpc, { exec: { target: "node-a", container: box } }, bearer(token), { http: 202 });
      await expectBoth(stack, grpc, {}, bearer(token), { http: 403, details: READ });
    });

    it("a token minted with another secret is refused", async () => {
      const token = await mint(["--subject", "mallory"], { MESHEXEC_JWT_SECRET: randomBytes(32).toString("base64url") });
      await expectBoth(stack, grpc, {}, bearer(token), { http: 401, details: "signature" });
    });
  });

  describe("agents' tokens and hostnames", () => {
    it("refuses an agent with a token that is not one, logs it, and never lists it", async () => {
      const wrong = `wrong-${randomBytes(12).toString("hex")}`;
      sent.add(wrong);
      await stack.spawnAgent({ hostname: "intruder" }, { token: wrong });
      const line = await stack.router.waitForLog("agent refused", (l) => l.code === "UNAUTHENTICATED");
      expect(line.reason).to.include("malformed");
      expect(await stack.connectedAgents()).to.deep.equal(["node-a"]);
    });

    it("refuses a second agent claiming a connected hostname, and the first stays", async () => {
      const before = (await stack.request("GET", "/agents", { token: await stack.token() })).body.agents;
      await stack.spawnAgent({ hostname: "node-a" });
      const line = await stack.router.waitForLog("agent refused", (l) => l.code === "ALREADY_EXISTS");
      expect(line.reason).to.include('"node-a"');
      const after = (await stack.request("GET", "/agents", { token: await stack.token() })).body.agents;
      expect(after).to.deep.equal(before);
      expect(stack.router.logs.filter((l) => l.msg === "agent disconnected")).to.deep.equal([]);
      const reply = await stack.exec("node-a", box, { command: ["echo", "still here"] });
      expect(reply.body.results[0]).to.include({ hostname: "node-a", status: "ok", stdout: "still here\n" });
    });
  });

  // A describe of its own, so that it runs after the others and sees everything they sent.
  describe("logs", () =>
    it("no process logs a token, an Authorization header, an agent's token or an env value", async () => {
      const secret = `env-secret-${randomUUID()}`;
      const token = await stack.token();
      sent.add(secret).add(token).add(stack.secret);
      stack.agentTokens.forEach((agentToken) => sent.add(agentToken));
      const ran = await stack.exec("node-a", box, { command: ["true"], env: [`API_KEY=${secret}`] }, { token });
      expect(ran.status).to.equal(202);
      expectErrorShape(await stack.exec("node-a", box, { command: ["true"], env: [`BAD KEY=${secret}`] }, { token }), 400);
      expectErrorShape(await stack.request("POST", execPath("node-a", box), { token: secret, json: { command: ["true"] } }), 401);
      const grpcRan = await grpc.exec({ target: "node-a", containerId: box, command: ["true"], env: [`API_KEY=${secret}`] }, token);
      expect(grpcRan.code).to.equal(status.OK);
      await stack.router.waitForLog("exec", (l) => l.jobId === ran.body.job_id);
      await stack.router.waitForLog("exec", (l) => l.jobId === grpcRan.response!.jobId);

      const logged = stack.processes.map((p) => ({ name: p.name, text: JSON.stringify(p.logs) + p.stderr }));
      expect(logged.map((p) => p.name)).to.include.members(["router", "gateway", "agent node-a", "agent intruder"]);
      for (const { name, text } of logged) {
        expect(text, name).to.not.match(/Bearer /i);
        for (const value of sent) {
          const needle = value.replace(/^Bearer /, "");
          if (needle.length >= 8) expect(text.includes(needle), `${name} logged ${needle.slice(0, 12)}…`).to.equal(false);
        }
      }
    }));
});

describe("authentication with RS256/ES256 keys, issuer and audience", function () {
  this.timeout(30_000);
  const goodClaims = (extra: JWTPayload = {}): JWTPayload => ({ sub: "svc", scope: READ, iat: now(), exp: now() + 600, ...extra });

  before(async () => {
    writeFileSync(files.rsaPublic, rsaPublicPem);
    writeFileSync(files.rsaPrivate, rsa.privateKey.export({ type: "pkcs8", format: "pem" }));
    const jwks = {
      keys: [
        { ...(await exportJWK(rsa.publicKey)), kid: "rsa-1", use: "sig" },
        { ...(await exportJWK(ec.publicKey)), kid: "ec-1", use: "sig" },
      ],
    };
    writeFileSync(files.jwks, JSON.stringify(jwks));
  });

  const suites: Array<{
    name: string;
    options: () => Parameters<typeof TestStack.start>[1];
    cases: Array<{ name: string; token: () => Promise<string>; expected: Expected }>;
  }> = [
    {
      name: "a PEM public key file (RS256)",
      options: () => ({ auth: { args: ["--jwt-public-key", files.rsaPublic], signingKey: { key: rsa.privateKey, algorithm: "RS256" } } }),
      cases: [
        { name: "RS256 signed with the matching private key", token: () => sign(rsa.privateKey, "RS256", goodClaims()), expected: { http: 200 } },
        { name: "RS256 signed with another key", token: () => sign(otherRsa.privateKey, "RS256", goodClaims()), expected: { http: 401, details: "signature" } },
        {
          name: "HS256 keyed with the public key's PEM (algorithm confusion)",
          token: () => sign(new TextEncoder().encode(rsaPublicPem), "HS256", goodClaims()),
          expected: { http: 401, details: "algorithm" },
        },
        { name: "ES256", token: () => sign(ec.privateKey, "ES256", goodClaims()), expected: { http: 401, details: "algorithm" } },
        { name: "alg: none", token: async () => unsignedToken(goodClaims()), expected: { http: 401, details: "algorithm" } },
        { name: "expired", token: () => sign(rsa.privateKey, "RS256", goodClaims({ exp: now() - 45 })), expected: { http: 401, details: "expired" } },
      ],
    },
    {
      name: "a JWKS file (RS256 and ES256 keys)",
      options: () => ({ auth: { args: ["--jwt-jwks", files.jwks], signingKey: { key: ec.privateKey, algorithm: "ES256" } } }),
      cases: [
        { name: "ES256 signed with the EC key", token: () => sign(ec.privateKey, "ES256", goodClaims()), expected: { http: 200 } },
        { name: "RS256 signed with the RSA key", token: () => sign(rsa.privateKey, "RS256", goodClaims()), expected: { http: 200 } },
        { name: "ES256 signed with a key not in the set", token: () => sign(otherEc.privateKey, "ES256", goodClaims()), expected: { http: 401 } },
        { name: "RS256 signed with a key not in the set", token: () => sign(otherRsa.privateKey, "RS256", goodClaims()), expected: { http: 401 } },
        { name: "HS256", token: () => sign(new TextEncoder().encode("secret"), "HS256", goodClaims()), expected: { http: 401, details: "algorithm" } },
        { name: "alg: none", token: async () => unsignedToken(goodClaims()), expected: { http: 401, details: "algorithm" } },
      ],
    },
    {
      name: "an issuer and an audience",
      options: () => ({
        auth: { args: ["--jwt-issuer", "https://id.example", "--jwt-audience", "meshexec"], issuer: "https://id.example", audience: "meshexec" },
      }),
      cases: [
        { name: "the right iss and aud", token: () => signHs(goodClaims({ iss: "https://id.example", aud: "meshexec" })), expected: { http: 200 } },
        { name: "aud among several", token: () => signHs(goodClaims({ iss: "https://id.example", aud: ["other", "meshexec"] })), expected: { http: 200 } },
        {
          name: "the wrong audience",
          token: () => signHs(goodClaims({ iss: "https://id.example", aud: "someone-else" })),
          expected: { http: 401, details: '"aud"' },
        },
        { name: "no audience", token: () => signHs(goodClaims({ iss: "https://id.example" })), expected: { http: 401, details: '"aud"' } },
        {
          name: "the wrong issuer",
          token: () => signHs(goodClaims({ iss: "https://evil.example", aud: "meshexec" })),
          expected: { http: 401, details: '"iss"' },
        },
      ],
    },
  ];
  let signHs: (claims: JWTPayload) => Promise<string>;

  for (const suite of suites) {
    describe(suite.name, () => {
      let stack: TestStack;
      let grpc: GrpcCaller;
      before(async () => {
        stack = await TestStack.start([], suite.options());
        signHs = (claims) => sign(new TextEncoder().encode(stack.secret), "HS256", claims);
        grpc = new GrpcCaller(stack.routerAddress);
      });
      after(async () => {
        grpc?.close();
        await stack?.stop();
      });

      for (const c of suite.cases) {
        it(`${c.name}: ${c.expected.http}, over REST and gRPC`, async () => {
          await expectBoth(stack, grpc, {}, bearer(await c.token()), c.expected);
        });
      }
    });
  }

  it("meshexec token signs RS256 with --jwt-private-key, and issuer and audience, as the stacks expect", async () => {
    const pemStack = await TestStack.start([], suites[0].options());
    try {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          CLI,
          "token",
          "--subject",
          "ci",
          "--scope",
          READ,
          "--ttl",
          "5m",
          "--jwt-private-key",
          files.rsaPrivate,
          "--jwt-issuer",
          "https://id.example",
          "--jwt-audience",
          "meshexec",
        ],
        { env: { PATH: process.env.PATH } },
      );
      const token = stdout.trim();
      expect(decodeJwt(token)).to.include({ sub: "ci", iss: "https://id.example", aud: "meshexec" });
      expect(JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString())).to.include({ alg: "RS256" });
      expect((await pemStack.request("GET", "/agents", { token })).status).to.equal(200);
    } finally {
      await pemStack.stop();
    }
  });
});

describe("meshexec dev", function () {
  this.timeout(30_000);
  let dev: MeshexecProcess;
  after(() => dev?.stop("SIGKILL"));

  it("makes a random secret when none is set and prints a token the edge accepts", async () => {
    dev = MeshexecProcess.spawn("dev", ["dev", "--rest-listen", "127.0.0.1:0", "--grpc-listen", "127.0.0.1:0", "--hostname", "dev-auth-test"]);
    const banner = await waitFor("dev to print its token", () => {
      if (!dev.running) throw new Error(`dev exited: ${dev.stderr}`);
      return /MESHEXEC_TOKEN=\S+/.test(dev.stderr) && dev.stderr;
    });
    expect(banner).to.match(/JWT secret \(random, this run only\): \S{20,}/);
    const token = /MESHEXEC_TOKEN=(\S+)/.exec(banner)![1];
    const base = /REST on (http:\/\/\S+),/.exec(banner)![1];
    const agents = await fetch(`${base}/agents`, { headers: { authorization: `Bearer ${token}` } });
    expect(agents.status).to.equal(200);
    const listed = (await agents.json()) as { agents: Array<{ hostname: string }> };
    expect(listed.agents.map((a) => a.hostname)).to.deep.equal(["dev-auth-test"]);
    expect((await fetch(`${base}/agents`)).status).to.equal(401);
  });
});
