import { expect } from "chai";
import { OpenApiContract, pointerTo } from "../support/openapi-contract.js";
import { TestContainers } from "../support/test-containers.js";
import { TestStack, type HttpReply } from "../support/test-stack.js";

const EXEC = "/node/{target}/container/docker/{container_id}/exec";

describe("OpenAPI document, against a real stack", function () {
  this.timeout(60_000);
  const containers = new TestContainers();
  let stack: TestStack;
  let box: string;
  let contract: OpenApiContract;

  before(async () => {
    [stack, box] = await Promise.all([TestStack.start([{ hostname: "oa-a" }, { hostname: "oa-b" }]), containers.start()]);
    contract = new OpenApiContract((await stack.request("GET", "/openapi.json")).body);
  });
  after(async () => {
    await stack?.stop();
    await containers.removeAll();
  });

  it("serves the document at GET /openapi.json, without a token, with every path", async () => {
    const reply = await stack.request("GET", "/openapi.json");
    expect(reply.status).to.equal(200);
    expect(reply.headers.get("content-type")).to.match(/^application\/json/);
    expect(reply.body.openapi).to.match(/^3\.1\.\d+$/);
    expect(Object.keys(reply.body.paths).sort()).to.deep.equal(
      [
        EXEC,
        "/agents",
        "/agents/{hostname}/revoke",
        "/audit",
        "/health",
        "/job/{id}",
        "/job/{id}/cancel",
        "/jobs",
        "/openapi.json",
        "/ready",
        "/tokens/{jti}/revoke",
      ].sort(),
    );
    contract.expectDocumented("get", "/openapi.json", reply);
  });

  it("describes a real 202 exec answer, from a host that ran the command and from one that could not", async () => {
    const ran = await stack.exec("oa-a", box, { command: ["sh", "-c", "echo out; exit 3"], env: ["A=1"], working_dir: "/tmp", timeout_seconds: 5 });
    expect(ran.status).to.equal(202);
    expect(ran.body.results[0].exit_code).to.equal(3);
    contract.expectDocumented("post", EXEC, ran);

    const missing = await stack.exec("_all", "meshexec-openapi-absent", { command: ["true"] });
    expect(missing.status).to.equal(202);
    expect(missing.body.results.map((r: { status: string }) => [r.status, "exit_code" in r])).to.deep.equal([
      ["failed", false],
      ["failed", false],
    ]);
    contract.expectDocumented("post", EXEC, missing);
  });

  it("would notice an answer that drifted from the document", async () => {
    const reply = await stack.exec("oa-a", box, { command: ["true"] });
    const schema = pointerTo("paths", EXEC, "post", "responses", "202", "content", "application/json", "schema");
    const [result] = reply.body.results;
    const { exit_code, ...withoutExit } = result;
    const { stdout, ...withoutStdout } = result;
    const drifts = [
      { ...reply.body, extra: 1 },
      { results: reply.body.results },
      { ...reply.body, results: [{ ...result, exit_code: "0" }] },
      { ...reply.body, results: [{ ...result, exit_code: null }] },
      { ...reply.body, results: [{ ...result, exit_code: 1.5 }] },
      { ...reply.body, results: [{ ...result, status: "done" }] },
      { ...reply.body, results: [withoutStdout] },
    ];
    expect([exit_code, stdout]).to.deep.equal([0, ""]);
    expect(contract.problems(schema, reply.body)).to.deep.equal([]);
    expect(contract.problems(schema, { ...reply.body, results: [withoutExit] }), "exit_code may be absent").to.deep.equal([]);
    drifts.forEach((drift) => expect(contract.problems(schema, drift), JSON.stringify(drift)).to.not.be.empty);
  });

  it("describes a real streamed exec, line by line", async () => {
    const reply = await stack.exec("_all", box, { command: ["echo", "x"] }, { query: "stream=true" });
    expect(reply.status).to.equal(200);
    const types = (reply.body as string)
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line).type);
    // Each host's output line comes before its result; the hosts' lines interleave as they run.
    expect(types.filter((type) => type !== "output")).to.deep.equal(["accepted", "result", "result", "summary"]);
    expect(types.filter((type) => type === "output")).to.have.length(2);
    contract.expectDocumented("post", EXEC, reply);
  });

  it("describes the job, the job list, the audit page and the agent list that real calls return", async () => {
    const { body } = await stack.exec("_all", box, { command: ["true"] }, { headers: { "Idempotency-Key": "openapi-spec-1" } });
    const token = await stack.token();
    const job = await stack.request("GET", `/job/${body.job_id}`, { token });
    const jobs = await stack.request("GET", "/jobs?limit=5&status=completed", { token });
    const audit = await stack.request("GET", "/audit?limit=5", { token });
    const agents = await stack.request("GET", "/agents", { token });
    // Empty lists would prove nothing about their items.
    expect([job.body.results, jobs.body.jobs, audit.body.entries, agents.body.agents].map((list) => list.length > 0)).to.deep.equal([true, true, true, true]);
    contract.expectDocumented("get", "/job/{id}", job);
    contract.expectDocumented("get", "/jobs", jobs);
    contract.expectDocumented("get", "/audit", audit);
    contract.expectDocumented("get", "/agents", agents);
  });

  it("describes a real agent revocation, and its refusal without the scope", async () => {
    const revoke = (scopes: string[]) => stack.token(scopes).then((token) => stack.request("POST", "/agents/oa-gone/revoke", { token }));
    const revoked = await revoke(["agent:admin"]);
    expect(revoked.status).to.equal(200);
    contract.expectDocumented("post", "/agents/{hostname}/revoke", revoked);
    contract.expectDocumented("post", "/agents/{hostname}/revoke", await revoke(["agent:read"]));
  });

  it("describes /health and /ready", async () => {
    contract.expectDocumented("get", "/health", await stack.request("GET", "/health"));
    contract.expectDocumented("get", "/ready", await stack.request("GET", "/ready"));
  });

  it("describes real errors from the edge and the router: ErrorBody, trace headers, and the challenge on a 401", async () => {
    const execPath = `/node/oa-a/container/docker/${box}/exec`;
    const replies: Array<[number, "get" | "post", string, HttpReply]> = [
      [401, "post", EXEC, await stack.exec("oa-a", box, { command: ["true"] }, { token: "" })],
      [403, "get", "/audit", await stack.request("GET", "/audit", { token: await stack.token(["docker:execute"]) })],
      [400, "post", EXEC, await stack.exec("oa-a", box, { command: [] })],
      [415, "post", EXEC, await stack.request("POST", execPath, { token: await stack.token(), body: "{}", headers: { "content-type": "text/plain" } })],
      [404, "post", EXEC, await stack.exec("oa-nowhere", box, { command: ["true"] })],
      [404, "get", "/job/{id}", await stack.request("GET", "/job/no-such-job", { token: await stack.token() })],
      [400, "get", "/jobs", await stack.request("GET", "/jobs?status=done", { token: await stack.token() })],
    ];
    for (const [status, method, path, reply] of replies) {
      expect(reply.status, `${method} ${path}`).to.equal(status);
      contract.expectDocumented(method, path, reply);
    }
  });
});
