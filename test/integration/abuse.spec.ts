import { Metadata, credentials, status, type ServiceError } from "@grpc/grpc-js";
import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { connect as connectHttp2, constants as http2 } from "node:http2";
import { connect as connectTcp } from "node:net";
import { execLimits } from "../../src/contract/index.js";
import { AuditServiceClient, type RecordEdgeRefusalRequest } from "../../src/gen/meshexec/v1/audit.js";
import { ExecServiceClient, type ExecContainerRequest } from "../../src/gen/meshexec/v1/exec.js";
import { MeshexecProcess } from "../support/meshexec-process.js";
import { RogueAgent } from "../support/rogue-agent.js";
import { TestContainers } from "../support/test-containers.js";
import { EDGE_SCOPE, TestStack } from "../support/test-stack.js";
import { waitFor } from "../support/wait-for.js";

type AuditRow = {
  subject: string;
  source_address: string;
  target: string;
  container_id: string;
  command: string[];
  grpc_code: string;
  request_id: string;
  error: string;
};

const MiB = 1024 * 1024;
/** The router's cap on what it keeps of each host's stream in this spec (the agents' own default is 1 MiB). */
const AGENT_OUTPUT_LIMIT = 64 * 1024;
/** What one exec keeps over all its hosts in this spec: more than one host's cap, less than two. */
const FANOUT_OUTPUT = 100 * 1024;

/** The router child's resident set, from /proc. */
function rssMiB(process: MeshexecProcess): number {
  const line = readFileSync(`/proc/${process.child.pid}/status`, "utf8").match(/^VmRSS:\s+(\d+) kB$/m);
  return Number(line![1]) / 1024;
}

/**
 * Issue 12's findings about unauthenticated write and memory paths, each reproduced against real
 * processes and shown refused. The router's RSS is measured around the whole spec.
 */
describe("attacks on the router's write and memory paths", function () {
  this.timeout(120_000);
  const containers = new TestContainers();
  let stack: TestStack;
  let box: string;
  let exec: ExecServiceClient;
  let auditClient: AuditServiceClient;
  let readToken: string;
  let edgeToken: string;
  const rss: Record<string, number> = {};

  before(async () => {
    [stack, box] = await Promise.all([
      TestStack.start([{ hostname: "ab-1" }, { hostname: "ab-2" }], {
        routerArgs: ["--agent-output-limit", String(AGENT_OUTPUT_LIMIT), "--max-fanout-output", String(FANOUT_OUTPUT)],
        gatewayArgs: ["--request-timeout", "2s"],
      }),
      containers.start(),
    ]);
    exec = new ExecServiceClient(stack.routerAddress, credentials.createInsecure(), { "grpc.max_send_message_length": -1 });
    auditClient = new AuditServiceClient(stack.routerAddress, credentials.createInsecure());
    readToken = await stack.token();
    edgeToken = await stack.token([EDGE_SCOPE], 3_600_000, "edge");
    // Warm the router up as a real one would be, so the figure before is not a cold start's.
    for (let i = 0; i < 5; i++) await stack.exec("_all", box, { command: ["true"] });
    rss.before = rssMiB(stack.router);
  });
  after(async () => {
    if (stack?.router.running) {
      rss.after = rssMiB(stack.router);
      console.log(`      router RSS: ${rss.before.toFixed(0)} MiB before the attacks, ${rss.after.toFixed(0)} MiB after`);
    }
    exec?.close();
    auditClient?.close();
    await Promise.all([stack?.stop(), containers.removeAll()]);
  });

  const metadataOf = (headers: Record<string, string>) => {
    const metadata = new Metadata();
    Object.entries(headers).forEach(([key, value]) => metadata.set(key, value));
    return metadata;
  };
  const callExec = (request: Partial<ExecContainerRequest>, headers: Record<string, string>) =>
    new Promise<{ code: status; details: string }>((resolve) =>
      exec.execContainer({ target: "", containerId: "", command: [], env: [], workingDir: "", ...request }, metadataOf(headers), (err: ServiceError | null) =>
        resolve(err ? { code: err.code, details: err.details } : { code: status.OK, details: "" }),
      ),
    );
  const recordRefusal = (request: RecordEdgeRefusalRequest, headers: Record<string, string>) =>
    new Promise<{ code: status; details: string }>((resolve) =>
      auditClient.recordEdgeRefusal(request, metadataOf(headers), (err: ServiceError | null) =>
        resolve(err ? { code: err.code, details: err.details } : { code: status.OK, details: "" }),
      ),
    );
  const auditRows = async (requestId: string): Promise<AuditRow[]> => {
    const reply = await stack.request("GET", "/audit?limit=100", { token: readToken });
    expect(reply.status).to.equal(200);
    return reply.body.entries.filter((e: AuditRow) => e.request_id === requestId);
  };

  describe("the audit log", () => {
    it("refuses RecordEdgeRefusal without the edge's credential, and writes nothing", async () => {
      const requestId = randomUUID();
      const forged = { target: "web-1", containerId: "app", subject: "alice", httpStatus: 401, error: "forged" };
      expect((await recordRefusal(forged, { "x-request-id": requestId })).code).to.equal(status.UNAUTHENTICATED);
      // A caller's token, however powerful otherwise, is not the edge's.
      const callerToken = `Bearer ${await stack.token()}`;
      expect((await recordRefusal(forged, { "x-request-id": requestId, authorization: callerToken })).code).to.equal(status.PERMISSION_DENIED);
      expect(await auditRows(requestId)).to.deep.equal([]);
      // The edge's own token is accepted, and its x-forwarded-for believed.
      const edge = { "x-request-id": requestId, authorization: `Bearer ${edgeToken}`, "x-forwarded-for": "203.0.113.7" };
      expect((await recordRefusal(forged, edge)).code).to.equal(status.OK);
      const [row] = await auditRows(requestId);
      expect(row).to.include({ subject: "alice", target: "web-1", grpc_code: "UNAUTHENTICATED" });
      expect(row.source_address).to.match(/^203\.0\.113\.7 via 127\.0\.0\.1:\d+$/);
    });

    it("does not believe x-forwarded-for from a caller that is not the edge", async () => {
      const requestId = randomUUID();
      const token = `Bearer ${await stack.token()}`;
      const spoofed = { authorization: token, "x-forwarded-for": "198.51.100.9", "x-meshexec-edge-authorization": "Bearer forged", "x-request-id": requestId };
      await callExec({ target: "ab-1", containerId: box, command: ["true"] }, spoofed);
      const [row] = await auditRows(requestId);
      expect(row.subject).to.equal("test");
      expect(row.source_address).to.match(/^127\.0\.0\.1:\d+$/);
    });

    it("believes the client address the stack's edge forwards", async () => {
      const requestId = randomUUID();
      await stack.exec("ab-1", box, { command: ["true"] }, { headers: { "x-request-id": requestId } });
      const [row] = await auditRows(requestId);
      expect(row.source_address).to.match(/^127\.0\.0\.1 via 127\.0\.0\.1:\d+$/);
    });

    it("answers an unauthenticated 56 MiB exec at once and audits it without its command", async () => {
      const requestId = randomUUID();
      const reply = await callExec({ target: "x".repeat(MiB), containerId: box, command: ["sh", "-c", "x".repeat(56 * MiB)] }, { "x-request-id": requestId });
      expect(reply.code).to.equal(status.UNAUTHENTICATED);
      const [row] = await auditRows(requestId);
      expect(row).to.include({ subject: "", grpc_code: "UNAUTHENTICATED", target: "", container_id: "" });
      expect(row.command).to.deep.equal([]);
    });

    it("keeps an authenticated caller's refused command only in a cut form", async () => {
      const requestId = randomUUID();
      const token = `Bearer ${await stack.token()}`;
      const command = ["echo", ...Array(299).fill("y".repeat(2000))];
      const reply = await callExec({ target: "ab-1", containerId: box, command }, { authorization: token, "x-request-id": requestId });
      expect(reply.code).to.equal(status.INVALID_ARGUMENT);
      const [row] = await auditRows(requestId);
      expect(row.command).to.have.length(17);
      expect(row.command[1]).to.equal(`${"y".repeat(1024)}…`);
      expect(row.command[16]).to.equal("…(284 more arguments)");
    });
  });

  describe("message sizes", () => {
    it("refuses a caller's message over the limit (the REST body's) with RESOURCE_EXHAUSTED, however large", async () => {
      const token = `Bearer ${await stack.token()}`;
      for (const size of [execLimits.maxBodyBytes + MiB / 2, 30 * MiB]) {
        const reply = await callExec({ target: "ab-1", containerId: box, command: ["echo", "x".repeat(size)] }, { authorization: token });
        expect(reply.code, `${size} bytes`).to.equal(status.RESOURCE_EXHAUSTED);
        expect(reply.details).to.match(
          new RegExp(
            `message too large: a /meshexec\\.v1\\.ExecService/ExecContainer request message may be at most ${execLimits.maxBodyBytes} bytes|Received message larger than max`,
          ),
        );
      }
      // Just under the limit is fine: the router gets to validate it.
      const fits = await callExec({ target: "ab-1", containerId: box, command: ["echo", "x".repeat(60_000)] }, { authorization: token });
      expect(fits.code).to.equal(status.OK);
    });

    it("cuts a rogue agent's reply past the output cap and flags it truncated", async () => {
      // A real agent credential for its own hostname: what a compromised host holds.
      const rogue = new RogueAgent(stack.routerAddress, `Bearer ${await stack.agentToken("rogue-1")}`, "rogue-1");
      try {
        await rogue.whenWelcomed();
        const [reply] = await Promise.all([stack.exec("rogue-1", box, { command: ["true"] }), rogue.answerNextExec("z".repeat(100 * 1024))]);
        expect(reply.status).to.equal(202);
        expect(reply.body.results[0].stdout).to.have.length(AGENT_OUTPUT_LIMIT);
        expect(reply.body.results[0].stdout_truncated).to.equal(true);
      } finally {
        rogue.close();
      }
    });

    for (const [what, size, refusedBy] of [
      ["past twice the cap", 500 * 1024, /message too large/],
      ["of 60 MiB", 60 * MiB, /Received message larger than max/],
    ] as const) {
      it(`closes the stream of a rogue agent whose reply is ${what}, storing none of it`, async () => {
        const hostname = `rogue-${size}`;
        const rogue = new RogueAgent(stack.routerAddress, `Bearer ${await stack.agentToken(hostname)}`, hostname);
        try {
          await rogue.whenWelcomed();
          const [reply] = await Promise.all([stack.exec(hostname, box, { command: ["true"] }), rogue.answerNextExec("z".repeat(size))]);
          expect(reply.body.results[0]).to.include({ status: "failed", stdout: "" });
          expect(reply.body.results[0].error).to.match(/agent disconnected/);
          const ended = await waitFor("the rogue's stream to end", () => rogue.ended);
          expect(ended.code).to.equal(status.RESOURCE_EXHAUSTED);
          expect(ended.details).to.match(refusedBy);
          // Past the server-wide limit grpc-js refuses from the length prefix, before any of it is read or logged.
          if (size < MiB)
            await stack.router.waitForLog(
              "oversized message refused",
              (line) => line.method === "/meshexec.v1.AgentService/Connect" && Number(line.bytes) > size,
            );
        } finally {
          rogue.close();
        }
      });
    }
  });

  describe("half-sent calls", () => {
    /**
     * Opens `count` ExecContainer calls that send their headers and nothing else, and collects each
     * one's grpc-status. They are left open as an attacker would leave them, so each connection
     * carries at most the 1,000 streams the router allows on one.
     */
    const halfSend = (count: number, headers: Record<string, string> = {}) =>
      new Promise<number[]>((resolve, reject) => {
        const sessions = Array.from({ length: Math.ceil(count / 1_000) }, () => connectHttp2(`http://${stack.routerAddress}`).on("error", reject));
        const codes: number[] = [];
        for (let i = 0; i < count; i++) {
          const stream = sessions[i % sessions.length].request({
            [http2.HTTP2_HEADER_METHOD]: "POST",
            [http2.HTTP2_HEADER_PATH]: "/meshexec.v1.ExecService/ExecContainer",
            "content-type": "application/grpc",
            te: "trailers",
            ...headers,
          });
          const take = (h: Record<string, unknown>) => {
            if (h["grpc-status"] === undefined) return;
            codes.push(Number(h["grpc-status"]));
            if (codes.length === count) {
              sessions.forEach((session) => session.destroy());
              resolve(codes);
            }
          };
          stream.on("response", take);
          stream.on("trailers", take);
          stream.on("error", () => {});
        }
      });

    it("answers 5,000 half-sent calls without a token at once, UNAUTHENTICATED", async () => {
      // Answered from its headers alone: a call that waited for its message would end DEADLINE_EXCEEDED after 10 s.
      const codes = await halfSend(5_000);
      expect(new Set(codes)).to.deep.equal(new Set([status.UNAUTHENTICATED]));
    });

    it("ends a call with a token whose message never comes, DEADLINE_EXCEEDED after 10 s", async function () {
      this.timeout(30_000);
      const codes = await halfSend(3, { authorization: `Bearer ${await stack.token()}` });
      expect(codes).to.deep.equal([status.DEADLINE_EXCEEDED, status.DEADLINE_EXCEEDED, status.DEADLINE_EXCEEDED]);
    });
  });

  describe("the edge", () => {
    it("answers a request whose body does not arrive in time with 408", async () => {
      const socket = connectTcp(stack.gatewayPort, "127.0.0.1");
      let answer = "";
      let closed = false;
      socket.on("data", (chunk) => (answer += chunk));
      socket.on("close", () => (closed = true));
      socket.write(
        `POST /node/ab-1/container/docker/${box}/exec HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${readToken}\r\n` +
          `Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"command":`,
      );
      // The stack's edge runs with --request-timeout 2s.
      await waitFor("the edge to answer and close the connection", () => closed, 10_000);
      expect(answer).to.match(/^HTTP\/1\.1 408 /);
      expect(JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4))).to.include({ code: 408, error: "request timeout" });
      // The handler still waiting for that body sees the client gone: 499 in the access log, not a failure of the edge.
      await stack.gateway.waitForLog("request", (line) => line.status === 499);
      expect(stack.gateway.logs.filter((line) => line.msg === "edge handler failed")).to.deep.equal([]);
    });
  });

  describe("fan-out output", () => {
    it(`keeps at most --max-fanout-output over all hosts, and flags the hosts it cut`, async () => {
      const reply = await stack.exec("_all", box, { command: ["sh", "-c", "head -c 60000 /dev/zero | tr '\\0' o"] });
      expect(reply.status).to.equal(202);
      const results = reply.body.results as Array<{ stdout: string; stdout_truncated: boolean }>;
      expect(results.map((r) => r.stdout.length).reduce((a, b) => a + b)).to.equal(FANOUT_OUTPUT);
      expect(results.map((r) => r.stdout_truncated).sort()).to.deep.equal([false, true]);
    });
  });

  describe("env values", () => {
    it("refuses a NUL in an env entry with 400 naming the entry, never quoting the value", async () => {
      const reply = await stack.exec("ab-1", box, { command: ["true"], env: ["OK=1", "A=x\u0000hunter2"] });
      expect(reply.status).to.equal(400);
      expect(reply.body.details).to.match(/env\[1\]/);
      expect(JSON.stringify(reply.body)).not.to.include("hunter2");
    });

    it("masks env values in output and in the engine's errors, in the answer and in the job", async () => {
      const env = ["SECRET=hunter2-secret", "N=7"];
      const printed = await stack.exec("ab-1", box, { command: ["sh", "-c", "echo $SECRET; echo N=$N >&2"], env });
      expect(printed.body.results[0]).to.include({ stdout: "***\n", stderr: "N=***\n" });
      // The engine quotes the program it could not find: here, the value itself.
      const failed = await stack.exec("_all", box, { command: ["hunter2-secret"], env });
      const job = await stack.request("GET", `/job/${failed.body.job_id}`, { token: readToken });
      // (The job keeps the command as the caller sent it: that is the caller's own input, not an env value.)
      for (const results of [failed.body.results, job.body.results]) {
        expect(results).to.have.length(2);
        expect(JSON.stringify(results)).not.to.include("hunter2");
        expect(results[0].stdout).to.include('exec: "***": executable file not found');
      }
    });
  });

  describe("the router's memory", () => {
    it("stays bounded through every attack above", () => {
      const now = rssMiB(stack.router);
      // Before these bounds, four 56 MiB calls alone grew the router by 260 MiB.
      expect(now - rss.before, `RSS ${rss.before.toFixed(0)} → ${now.toFixed(0)} MiB`).to.be.below(100);
    });
  });
});

describe("defaults that fail closed", function () {
  this.timeout(30_000);
  const started: MeshexecProcess[] = [];
  after(() => Promise.all(started.map((p) => p.stop("SIGKILL"))));
  const spawn = (name: string, args: string[]) => {
    const process = MeshexecProcess.spawn(name, args, { MESHEXEC_JWT_SECRET: "a-secret-of-at-least-thirty-two-bytes!" });
    started.push(process);
    return process;
  };

  it("warns when the router serves plaintext off loopback, and serves no reflection with --no-reflection", async () => {
    const router = spawn("router", ["router", "--grpc-listen", "0.0.0.0:0", "--data-dir", `/tmp/meshexec-${randomUUID()}`, "--no-reflection"]);
    const port = await router.listeningPort("router listening");
    const warning = await router.waitForLog(
      "the gRPC API and the agents' streams is served in plaintext on a non-loopback address; set --tls-cert and --tls-key, or listen on 127.0.0.1 behind a proxy that terminates TLS",
    );
    expect(warning).to.include({ flag: "--grpc-listen", level: 40 });
    const session = connectHttp2(`http://127.0.0.1:${port}`);
    try {
      const stream = session.request({
        [http2.HTTP2_HEADER_METHOD]: "POST",
        [http2.HTTP2_HEADER_PATH]: "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        "content-type": "application/grpc",
        te: "trailers",
      });
      stream.on("error", () => {});
      const headers = await new Promise<Record<string, unknown>>((resolve) => stream.on("response", resolve));
      expect(Number(headers["grpc-status"])).to.equal(status.UNIMPLEMENTED);
    } finally {
      session.close();
    }
  });

  it("warns at startup when the edge has no token of its own, naming the flag", async () => {
    const gateway = spawn("gateway", ["gateway", "--rest-listen", "127.0.0.1:0", "--router", "127.0.0.1:1"]);
    await gateway.waitForLog(
      "no --router-token: the router refuses the edge's reports, so requests the edge refuses itself are not audited, and the router records the edge's address instead of the client's",
    );
  });

  it("refuses an --audit-ttl shorter than the day the audit log keeps every entry", async () => {
    const router = spawn("router", ["router", "--grpc-listen", "127.0.0.1:0", "--data-dir", `/tmp/meshexec-${randomUUID()}`, "--audit-ttl", "1h"]);
    expect((await router.exited).code).to.equal(2);
    expect(router.stderr).to.match(/--audit-ttl.*at least 1d/);
  });
});
