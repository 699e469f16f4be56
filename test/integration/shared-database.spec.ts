import { expect } from "chai";
import { randomBytes, randomUUID } from "node:crypto";
import { POSTGRES_MIGRATIONS } from "../../src/store/postgres-migrations.js";
import { MeshexecProcess } from "../support/meshexec-process.js";
import { TestPostgres } from "../support/postgres.js";
import { TestContainers } from "../support/test-containers.js";
import { TestStack, type HttpReply } from "../support/test-stack.js";
import { waitFor } from "../support/wait-for.js";

/**
 * Several routers on one PostgreSQL, without NATS: each has its own agent for the one hostname
 * (both on the local engine), so whichever router runs an exec runs it in the same container.
 */
describe("several routers on one PostgreSQL database", function () {
  this.timeout(90_000);
  const containers = new TestContainers();
  let postgres: TestPostgres;
  let url: string;
  let a: TestStack;
  let b: TestStack;
  let box: string;
  let adminToken: string;
  const routerArgs = (name: string) => ["--name", name, "--database-url", url];

  before(async () => {
    [postgres, box] = await Promise.all([TestPostgres.start(), containers.start()]);
    url = await postgres.createDatabase();
    // Three routers started at once on an empty database: each migrates under the advisory lock, all come up.
    const secret = randomBytes(24).toString("base64url");
    const third = MeshexecProcess.spawn("router rc", ["router", "--grpc-listen", "127.0.0.1:0", ...routerArgs("rc")], { MESHEXEC_JWT_SECRET: secret });
    [a, b] = await Promise.all([
      TestStack.start([{ hostname: "pg-1" }], { routerArgs: routerArgs("ra"), secret }),
      TestStack.start([{ hostname: "pg-1" }], { routerArgs: routerArgs("rb"), secret }),
      third.listeningPort("router listening"),
    ]).finally(() => third.stop("SIGKILL"));
    expect(await postgres.psql("SELECT count(*) FROM schema_migrations", databaseOf(url))).to.equal(String(POSTGRES_MIGRATIONS.length));
    adminToken = await a.token();
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await containers.removeAll();
    await postgres?.destroy();
  });

  it("answers GET /job/{id}, /jobs and /audit the same from either router", async () => {
    const reply = await a.exec("pg-1", box, { command: ["echo", "shared"] });
    expect(reply.status).to.equal(202);
    const id = reply.body.job_id;
    const [jobA, jobB] = await Promise.all([a, b].map((stack) => stack.request("GET", `/job/${id}`, { token: adminToken })));
    expect(jobB.status).to.equal(200);
    expect(jobB.body).to.deep.equal(jobA.body);
    expect(jobB.body).to.include({ status: "completed", container_id: box });
    expect(jobB.body.results[0]).to.include({ hostname: "pg-1", stdout: "shared\n" });
    for (const path of ["/jobs?limit=5", "/audit?limit=5"]) {
      const [fromA, fromB] = await Promise.all([a, b].map((stack) => stack.request("GET", path, { token: adminToken })));
      expect(fromB.status, path).to.equal(200);
      expect(fromB.body, path).to.deep.equal(fromA.body);
    }
    const audit = (await b.request("GET", "/audit?limit=5", { token: adminToken })).body;
    expect(audit.entries.map((e: { job_id: string }) => e.job_id)).to.include(id);
  });

  it("runs one Idempotency-Key sent to both routers at once exactly once, and gives every caller that job", async () => {
    const key = randomUUID();
    const file = `/tmp/idempotent-${key}`;
    const body = { command: ["sh", "-c", `echo ran >> ${file}; sleep 0.5; echo done`] };
    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => [a, b][i % 2].exec("pg-1", box, body, { headers: { "idempotency-key": key } })));
    replies.forEach((r) => expect(r.status, JSON.stringify(r.body)).to.equal(202));
    expect(new Set(replies.map((r) => r.body.job_id)).size).to.equal(1);
    replies.forEach((r) => expect(r.body.results[0]).to.include({ status: "ok", stdout: "done\n" }));
    const count = await a.exec("pg-1", box, { command: ["wc", "-l", file] });
    expect(count.body.results[0].stdout).to.equal(`1 ${file}\n`);
  });

  it("fails only its own running jobs when a router restarts", async () => {
    const started = await a.exec("pg-1", box, { command: ["sleep", "3"] }, { query: "async=true" });
    expect(started.status).to.equal(202);
    const id = started.body.job_id;
    await b.router.stop("SIGKILL");
    await b.startRouter(b.routerPort, routerArgs("rb"));
    await b.router.waitForLog("router listening");
    expect((await b.request("GET", `/job/${id}`, { token: adminToken })).body).to.include({ status: "running", error: "" });
    await waitFor(
      "the job to complete on router ra",
      async () => (await b.request("GET", `/job/${id}`, { token: adminToken })).body.status === "completed",
      15_000,
    );
  });

  it('keeps every job it answered whole through a PostgreSQL restart under load, answering 503 "database unavailable" meanwhile', async () => {
    const replies: HttpReply[] = [];
    const loading = new AbortController();
    const worker = async (n: number) => {
      for (let i = 0; !loading.signal.aborted; i++) replies.push(await a.exec("pg-1", box, { command: ["echo", `${n}-${i}`] }));
    };
    const load = Promise.all([0, 1, 2, 3].map(worker));
    await waitFor("execs before the outage", () => replies.filter((r) => r.status === 202).length >= 8);
    await postgres.stop();
    // The workers' execs in flight wait for the database (their results are kept); new ones are refused.
    const refused = await waitFor("a 503 during the outage", async () => {
      const reply = await a.exec("pg-1", box, { command: ["echo", "during"] });
      replies.push(reply);
      return reply.status === 503 && reply;
    });
    expect(refused.body).to.include({ error: "database unavailable", code: 503 });
    expect(refused.body.details).to.include(`127.0.0.1:${postgres.port}`).and.not.include(postgres.password);
    const readDuringOutage = await a.request("GET", "/jobs?limit=1", { token: adminToken });
    expect(readDuringOutage.status).to.equal(503);
    await postgres.start();
    const afterOutage = replies.length;
    await waitFor("execs after the outage", () => replies.slice(afterOutage).filter((r) => r.status === 202).length >= 8, 20_000);
    loading.abort();
    await load;

    const unexpected = replies.filter((r) => r.status !== 202 && !(r.status === 503 && r.body.error === "database unavailable"));
    expect(unexpected.map((r) => r.body)).to.deep.equal([]);
    const answered = replies.filter((r) => r.status === 202);
    for (const reply of answered) {
      const job = await b.request("GET", `/job/${reply.body.job_id}`, { token: adminToken });
      expect(job.body, reply.body.job_id).to.include({ status: "completed" });
      expect(job.body.results).to.deep.equal(reply.body.results);
    }
    const running = await b.request("GET", "/jobs?status=running&limit=100", { token: adminToken });
    expect(running.body.jobs).to.deep.equal([]);
  });

  it("refuses to start when PostgreSQL cannot be reached, naming it without the password, and never logs the password", async () => {
    const unreachable = url.replace(`:${postgres.port}/`, ":1/");
    const router = MeshexecProcess.spawn("router rd", ["router", "--grpc-listen", "127.0.0.1:0", "--name", "rd"], {
      MESHEXEC_JWT_SECRET: a.secret,
      MESHEXEC_DATABASE_URL: unreachable,
    });
    expect((await router.exited).code).to.equal(2);
    expect(router.stderr).to.match(/database unavailable: .*ECONNREFUSED.*postgres:\/\/meshexec:\*\*\*@127\.0\.0\.1:1\//);
    for (const process of [router, ...a.processes, ...b.processes]) {
      expect(JSON.stringify(process.logs) + process.stderr, process.name).not.to.include(postgres.password);
    }
  });
});

function databaseOf(url: string): string {
  return url.slice(url.lastIndexOf("/") + 1);
}
