import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { TestPostgres } from "../support/postgres.js";
import { TestContainers } from "../support/test-containers.js";
import { TestStack } from "../support/test-stack.js";
import { waitFor } from "../support/wait-for.js";

/**
 * Per-subject limits with two routers on one PostgreSQL (as in shared-database.spec.ts): a subject
 * gets its limits once across the mesh, whichever router its calls reach, not once per router.
 */
describe("per-subject limits across routers sharing PostgreSQL", function () {
  this.timeout(90_000);
  const containers = new TestContainers();
  let postgres: TestPostgres;
  let a: TestStack;
  let b: TestStack;
  let box: string;
  let routerArgs: (name: string) => string[];

  before(async () => {
    [postgres, box] = await Promise.all([TestPostgres.start(), containers.start()]);
    const url = await postgres.createDatabase();
    routerArgs = (name) => ["--name", name, "--database-url", url, "--rate-limit", "1", "--rate-limit-burst", "2", "--max-concurrent-execs", "1"];
    const secret = randomBytes(24).toString("base64url");
    [a, b] = await Promise.all([
      TestStack.start([{ hostname: "pg-1" }], { routerArgs: routerArgs("ra"), secret }),
      TestStack.start([{ hostname: "pg-1" }], { routerArgs: routerArgs("rb"), secret }),
    ]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await containers.removeAll();
    await postgres?.destroy();
  });

  it("refuses a subject's third exec across the two routers with 429 and Retry-After (--rate-limit 1 --rate-limit-burst 2)", async () => {
    const token = await a.token(undefined, undefined, "rate-subject");
    expect((await a.exec("pg-1", box, { command: ["true"] }, { token })).status).to.equal(202);
    expect((await b.exec("pg-1", box, { command: ["true"] }, { token })).status).to.equal(202);
    const third = await a.exec("pg-1", box, { command: ["true"] }, { token });
    expect(third.status).to.equal(429);
    expect(third.body).to.include({ error: "rate limited", code: 429 });
    expect(third.body.details).to.include('subject "rate-subject"').and.include("--rate-limit");
    expect(third.headers.get("retry-after")).to.equal("1");
    // Another subject has a bucket of its own.
    expect((await b.exec("pg-1", box, { command: ["true"] }, { token: await a.token(undefined, undefined, "other-subject") })).status).to.equal(202);
  });

  it("refuses a second concurrent exec through the other router with 429 (--max-concurrent-execs 1), and admits it once the first ended", async () => {
    const token = await a.token(undefined, undefined, "busy-subject");
    const running = await a.exec("pg-1", box, { command: ["sleep", "2"] }, { token, query: "async=true" });
    expect(running.status).to.equal(202);
    const second = await b.exec("pg-1", box, { command: ["true"] }, { token });
    expect(second.status).to.equal(429);
    expect(second.body).to.include({ error: "too many execs running", code: 429 });
    expect(second.headers.get("retry-after")).to.equal("1");
    await waitFor("the first exec to end", async () => (await a.request("GET", `/job/${running.body.job_id}`, { token })).body.status === "completed", 15_000);
    await waitFor("the slot to be given back", async () => (await b.exec("pg-1", box, { command: ["true"] }, { token })).status === 202, 5_000);
  });

  it("gives back the slots of a router that was killed when it restarts, so its subjects are not held at their cap", async () => {
    const token = await a.token(undefined, undefined, "crash-subject");
    expect((await b.exec("pg-1", box, { command: ["sleep", "30"] }, { token, query: "async=true" })).status).to.equal(202);
    await b.router.stop("SIGKILL");
    expect((await a.exec("pg-1", box, { command: ["true"] }, { token })).body).to.include({ error: "too many execs running" });
    await b.startRouter(b.routerPort, routerArgs("rb"));
    expect((await a.exec("pg-1", box, { command: ["true"] }, { token })).status).to.equal(202);
  });
});
