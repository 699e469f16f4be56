import { status } from "@grpc/grpc-js";
import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HostResult } from "../../src/gen/meshexec/v1/exec.js";
import { DockerSocketProxy } from "../support/docker-socket-proxy.js";
import { GrpcCaller } from "../support/grpc-exec.js";
import { OpenApiContract } from "../support/openapi-contract.js";
import { runCli, type CliRun } from "../support/run-cli.js";
import { TestContainers } from "../support/test-containers.js";
import { TestStack } from "../support/test-stack.js";
import { waitFor } from "../support/wait-for.js";

const EXEC = "/node/{target}/container/docker/{container_id}/exec";
const JOB = "/job/{id}";

interface Result {
  hostname: string;
  status: string;
  exit_code?: number;
  error: string;
}

/** One exec's results, sorted by hostname, as each way a client can ask returned them. */
type Answers = Record<string, Result[]>;

/** What one host's result must be; no exitCode means the result must have no exit_code at all. */
interface Expected {
  hostname: string;
  status: "ok" | "failed" | "timeout";
  exitCode?: number;
  error?: RegExp;
}

const byHostname = (results: Result[]) => [...results].sort((a, b) => a.hostname.localeCompare(b.hostname));

/**
 * Every way a host's command can fail to run to an exit, produced for real, and every answer
 * that carries those results checked against the served OpenAPI document by a JSON Schema
 * validator: the 202, ?async and then GET /job/{id}, each ?stream=true line, and the CLI's --json.
 */
describe("results without an exit code, against the OpenAPI document, every way a client asks", function () {
  this.timeout(90_000);
  const containers = new TestContainers();
  let proxy: DockerSocketProxy;
  let stack: TestStack;
  let contract: OpenApiContract;
  let token: string;
  let cliEnv: Record<string, string>;
  let grpc: GrpcCaller;
  /** On every host's engine. */
  let box: string;
  /** Only on rx-a's engine: on rx-b's node the name means a container that does not exist. */
  let elsewhere: string;

  before(async () => {
    [box, elsewhere] = await Promise.all([containers.start(), containers.start()]);
    const socket = join(tmpdir(), `meshexec-docker-${randomUUID().slice(0, 8)}.sock`);
    proxy = new DockerSocketProxy(socket, undefined, { from: elsewhere, to: `${elsewhere}-not-on-this-node` });
    await proxy.up();
    stack = await TestStack.start([
      { hostname: "rx-a", labels: { role: "web" } },
      { hostname: "rx-b", labels: { role: "web" }, args: ["--docker-socket", proxy.path] },
    ]);
    token = await stack.token();
    cliEnv = { MESHEXEC_GATEWAY: stack.gatewayUrl, MESHEXEC_TOKEN: token };
    contract = new OpenApiContract((await stack.request("GET", "/openapi.json")).body);
    grpc = new GrpcCaller(stack.routerAddress);
  });
  after(async () => {
    grpc?.close();
    await stack?.stop();
    await proxy?.down();
    await containers.removeAll();
  });

  /**
   * Sends the same exec every way at once: a plain REST call, ?async (then the job, over REST and
   * with `meshexec job --json`), ?stream=true and `meshexec exec --json`; and over gRPC, to the
   * router. Each REST answer must be one the document describes; resolves with the results each carried.
   */
  async function execEveryWay(target: string, container: string, command: string[], timeoutSeconds = 30): Promise<Answers> {
    const body = { command, timeout_seconds: timeoutSeconds };
    const cliArgs = ["exec", "--json", "--target", target, "--container", container, "--timeout", String(timeoutSeconds), "--", ...command];
    const [plain, accepted, streamed, cliExec, overGrpc] = await Promise.all([
      stack.exec(target, container, body),
      stack.exec(target, container, body, { query: "async=true" }),
      stack.exec(target, container, body, { query: "stream=true" }),
      runCli(cliArgs, cliEnv),
      grpc.exec({ target, containerId: container, command, timeoutSeconds }, token),
    ]);
    for (const reply of [plain, accepted]) {
      expect(reply.status, JSON.stringify(reply.body)).to.equal(202);
      contract.expectDocumented("post", EXEC, reply);
    }
    expect(accepted.body.results).to.deep.equal([]);
    expect(streamed.status, streamed.body).to.equal(200);
    contract.expectDocumented("post", EXEC, streamed);
    expect(overGrpc.code, overGrpc.message).to.equal(status.OK);
    const cliReply = parsedCliJson(cliExec);
    contract.expectBodyDocumented("post", EXEC, 202, cliReply, "meshexec exec --json");

    const jobPath = `/job/${accepted.body.job_id}`;
    const job = await waitFor(
      "the async job to finish",
      async () => {
        const reply = await stack.request("GET", jobPath, { token });
        return reply.body.status !== "running" && reply;
      },
      30_000,
    );
    contract.expectDocumented("get", JOB, job);
    const cliJob = parsedCliJson(await runCli(["job", "--json", accepted.body.job_id], cliEnv));
    contract.expectBodyDocumented("get", JOB, 200, cliJob, "meshexec job --json");

    const streamedResults = (streamed.body as string)
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line))
      .filter((line) => line.type === "result")
      .map((line) => line.result);
    return {
      "REST 202": plain.body.results,
      "?stream=true result lines": byHostname(streamedResults),
      "GET /job/{id} after ?async": job.body.results,
      "meshexec exec --json": cliReply.results,
      "meshexec job --json": cliJob.results,
      "gRPC ExecContainer": overGrpc.response!.results.map(fromGrpc),
    };
  }

  /** exit_code only where the reply had one: unset on the wire is undefined, for proto3 optional. */
  function fromGrpc({ hostname, status, error, exitCode }: HostResult): Result {
    return { hostname, status, error, ...(exitCode !== undefined && { exit_code: exitCode }) };
  }

  /** The CLI exits 1 when a host did not run the command to exit 0, and prints the edge's JSON. */
  function parsedCliJson(run: CliRun): any {
    expect(run.code, `exit ${run.code}: ${run.stderr}`).to.equal(1);
    return JSON.parse(run.stdout);
  }

  /** Each way answered the same hosts with the expected outcomes, and no exit_code where none is expected. */
  function expectResults(answers: Answers, expected: Expected[]): void {
    for (const [way, results] of Object.entries(answers)) {
      const context = `${way}: ${JSON.stringify(results)}`;
      expect(
        results.map((r) => r.hostname),
        context,
      ).to.deep.equal(expected.map((e) => e.hostname));
      results.forEach((result, i) => {
        const { status, exitCode, error } = expected[i];
        expect(result.status, context).to.equal(status);
        if (exitCode === undefined) expect(result, context).to.not.have.property("exit_code");
        else expect(result.exit_code, context).to.equal(exitCode);
        if (error) expect(result.error, context).to.match(error);
      });
    }
  }

  it("a timeout: the command killed at timeout_seconds", async () => {
    const answers = await execEveryWay("role:web", box, ["sleep", "321"], 1);
    expectResults(answers, [
      { hostname: "rx-a", status: "timeout", error: /timed out/ },
      { hostname: "rx-b", status: "timeout", error: /timed out/ },
    ]);
  });

  it("a missing container on a label target: one host ran it, the other does not have it", async () => {
    const answers = await execEveryWay("role:web", elsewhere, ["true"]);
    expectResults(answers, [
      { hostname: "rx-a", status: "ok", exitCode: 0 },
      { hostname: "rx-b", status: "failed", error: /no container/ },
    ]);
  });

  it("a stopped container on _all: stopped on one host, missing on the other", async () => {
    await containers.docker.getContainer(elsewhere).stop({ t: 0 });
    const answers = await execEveryWay("_all", elsewhere, ["true"]);
    expectResults(answers, [
      { hostname: "rx-a", status: "failed", error: /is not running/ },
      { hostname: "rx-b", status: "failed", error: /no container/ },
    ]);
  });

  it("a lost agent: SIGKILLed while its execs run", async () => {
    const lost = await stack.startAgent({ hostname: "rx-lost", labels: { fate: "lost" } });
    const answers = execEveryWay("fate:lost", box, ["sleep", "322"]);
    // The plain, async, streamed, CLI and gRPC execs: five on the one host.
    await waitFor("five execs to run on rx-lost", async () => (await containers.countRunning(box, "sleep 322")) === 5);
    await lost.stop("SIGKILL");
    expectResults(await answers, [{ hostname: "rx-lost", status: "failed", error: /agent disconnected/ }]);
  });

  it("a draining agent: SIGTERMed with an exec running, then an exec on _all", async () => {
    await waitFor("rx-lost to be gone", async () => !(await stack.connectedAgents()).includes("rx-lost"));
    const draining = await stack.startAgent({ hostname: "rx-drain", args: ["--drain-timeout", "60s"] });
    const pidFile = `/tmp/drain-${randomUUID()}`;
    const running = stack.exec("rx-drain", box, { command: ["sh", "-c", `echo $$ > ${pidFile}; exec sleep 323`], timeout_seconds: 60 });
    await waitFor("the exec to run on rx-drain", () => containers.countRunning(box, "sleep 323").then((n) => n === 1));
    draining.child.kill("SIGTERM");
    await waitFor("rx-drain to be draining", async () => {
      const agents = (await stack.request("GET", "/agents", { token })).body.agents;
      return agents.find((a: { hostname: string; draining: boolean }) => a.hostname === "rx-drain")?.draining;
    });

    expectResults(await execEveryWay("_all", box, ["true"]), [
      { hostname: "rx-a", status: "ok", exitCode: 0 },
      { hostname: "rx-b", status: "ok", exitCode: 0 },
      { hostname: "rx-drain", status: "failed", error: /draining/ },
    ]);

    // The exec that kept it draining ends, so it can finish draining (another agent, same container).
    expect((await stack.exec("rx-a", box, { command: ["sh", "-c", `kill $(cat ${pidFile})`] })).body.results[0]).to.include({ exit_code: 0 });
    expect((await running).body.results[0]).to.include({ hostname: "rx-drain", status: "ok" });
  });
});
