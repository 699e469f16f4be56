import { expect } from "chai";
import { GrpcStatus, MeshError } from "../errors/index.js";
import { createLogger } from "../log/index.js";
import { RouterMetrics, createMetricsRegistry } from "../metrics/index.js";
import { MemoryJobStore } from "../store/index.js";
import { continueTrace } from "../trace/index.js";
import type { ExecRequestMessage, HostOutcome } from "./agent-session.js";
import { ExecJobs, type AcceptedExec } from "./exec-jobs.js";
import { FleetView, type ListedHost, type RemoteHosts } from "./fleet-view.js";
import type { ExecDeliverer, HostLink } from "./host-link.js";
import { AgentRegistry } from "./registry.js";
import { RunningJobs } from "./job-cancellation.js";
import { parseTarget } from "./target.js";

/** Another router holding every host of the spec: it runs each exec when the spec says so. */
class HeldHosts implements ExecDeliverer, RemoteHosts {
  readonly deliveries: string[][] = [];
  private waiting: Array<{ requestId: string; finish: () => void; giveUp: (outcome: HostOutcome) => void }> = [];
  readonly hosts: ListedHost[];

  constructor(hostnames: string[]) {
    this.hosts = hostnames.map((hostname) => ({
      hostname,
      labels: {},
      draining: false,
      inFlight: 0,
      router: "holder",
      version: "1",
      connectedSince: new Date(0),
      deliverer: this,
    }));
  }

  deliver(request: ExecRequestMessage, hosts: readonly HostLink[], onOutcome: (index: number, outcome: HostOutcome) => void): void {
    this.deliveries.push(hosts.map((h) => h.hostname));
    hosts.forEach((host, i) =>
      this.waiting.push({
        requestId: request.kind.value.requestId,
        giveUp: (outcome) => onOutcome(i, outcome),
        finish: () =>
          onOutcome(i, {
            $case: "completed",
            value: {
              stdout: `ran on ${host.hostname}\n`,
              stderr: "",
              exitCode: 0,
              timedOut: false,
              stdoutTruncated: false,
              stderrTruncated: false,
              durationMs: 1,
            },
          }),
      }),
    );
  }

  giveUp(requestId: string, status: "failed" | "timeout" | "cancelled", message: string): void {
    const given = this.waiting.filter((w) => w.requestId === requestId);
    this.waiting = this.waiting.filter((w) => w.requestId !== requestId);
    given.forEach((w) => w.giveUp({ $case: "unanswered", value: { status, message } }));
  }

  /** Lets every exec delivered so far finish. */
  finishAll(): void {
    this.waiting.splice(0).forEach((w) => w.finish());
  }

  untrustedBecause(): string | undefined {
    return undefined;
  }
  get(hostname: string): ListedHost | undefined {
    return this.hosts.find((h) => h.hostname === hostname);
  }
  list(): ListedHost[] {
    return this.hosts;
  }
}

function setUp(hostnames = ["h1", "h2"]) {
  const held = new HeldHosts(hostnames);
  const jobs = new MemoryJobStore();
  const running = new RunningJobs();
  const execJobs = new ExecJobs({
    routerName: "",
    fleet: new FleetView(new AgentRegistry(15_000), held),
    jobs,
    track: (work) => work,
    metrics: new RouterMetrics(createMetricsRegistry()),
    log: createLogger("spec", "silent"),
    hostOutputLimitBytes: 1024,
    totalOutputLimitBytes: 4096,
    running,
  });
  return { held, jobs, execJobs, running };
}

function exec(target: string, overrides: Partial<AcceptedExec> = {}): AcceptedExec & { accepted: string[] } {
  const accepted: string[] = [];
  return {
    subject: "alice",
    plan: { target: parseTarget(target), containerId: "c", command: ["true"], env: [], workingDir: "", timeoutMs: 5_000, stdin: Buffer.alloc(0) },
    grants: {},
    async: false,
    trace: continueTrace({}),
    signal: new AbortController().signal,
    onAccepted: (jobId) => accepted.push(jobId),
    accepted,
    ...overrides,
  };
}

/** Lets pending promise callbacks run, so work the spec started reaches its deliverer. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("ExecJobs (in memory, over a fake fleet)", () => {
  it("records the job before anything runs, then each host's result and the job's status", async () => {
    const { held, jobs, execJobs } = setUp();
    const running = execJobs.run(exec("_all"));
    await settle();
    const jobId = (await jobs.list({ limit: 10 })).items[0].id;
    expect((await jobs.get(jobId))?.status).to.equal("running");
    held.finishAll();
    const reply = await running;
    expect(reply.jobId).to.equal(jobId);
    expect(reply.results.map((r) => `${r.hostname}:${r.status}`)).to.deep.equal(["h1:ok", "h2:ok"]);
    expect((await jobs.get(jobId))?.status).to.equal("completed");
  });

  it("delivers once for a repeated idempotency key while the first run is still going, and gives both callers that job", async () => {
    const { held, execJobs } = setUp();
    const first = execJobs.run(exec("_all", { idempotencyKey: "k" }));
    await settle();
    const second = execJobs.run(exec("_all", { idempotencyKey: "k" }));
    await settle();
    held.finishAll();
    const [a, b] = await Promise.all([first, second]);
    expect(b.jobId).to.equal(a.jobId);
    expect(held.deliveries).to.deep.equal([["h1", "h2"]]);
  });

  it("refuses the same key for a different request, running nothing", async () => {
    const { held, execJobs } = setUp();
    const first = execJobs.run(exec("h1", { idempotencyKey: "k" }));
    await settle();
    const other = exec("h1", { idempotencyKey: "k" });
    other.plan.command = ["false"];
    const refusal = await execJobs.run(other).then(
      () => expect.fail("a reused key ran a different request"),
      (err: MeshError) => err,
    );
    expect(refusal.code).to.equal(GrpcStatus.ALREADY_EXISTS);
    held.finishAll();
    await first;
    expect(held.deliveries).to.have.length(1);
  });

  it("answers an async exec with its job id at once, and the job fills in as hosts answer", async () => {
    const { held, jobs, execJobs } = setUp();
    const reply = await execJobs.run(exec("_all", { async: true }));
    expect(reply.results).to.deep.equal([]);
    held.finishAll();
    const job = await waitForStatus(jobs, reply.jobId, "completed");
    expect(job.results.map((r) => r.hostname)).to.deep.equal(["h1", "h2"]);
  });

  it("rolls an async job one host at a time, and a cancel ends it cancelled: the running host cancelled, the rest skipped", async () => {
    const { held, jobs, execJobs, running } = setUp(["h1", "h2", "h3"]);
    const accepted = exec("_all", { async: true });
    accepted.plan.maxConcurrency = { count: 1 };
    const reply = await execJobs.run(accepted);
    await settle();
    expect(held.deliveries).to.deep.equal([["h1"]]);
    expect(await running.cancel(reply.jobId, "ops")).to.equal(true);
    const job = await waitForStatus(jobs, reply.jobId, "cancelled");
    expect(job.results.map((r) => [r.hostname, r.status, r.error])).to.deep.equal([
      ["h1", "cancelled", "cancelled by ops; the process was killed"],
      ["h2", "skipped", "not started: the job was cancelled"],
      ["h3", "skipped", "not started: the job was cancelled"],
    ]);
    expect(await running.cancel(reply.jobId, "ops")).to.equal(false);
  });

  it("refuses a target no agent matches before any job exists", async () => {
    const { jobs, execJobs } = setUp();
    const refusal = await execJobs.run(exec("nowhere")).then(
      () => expect.fail("an exec ran without a host"),
      (err: MeshError) => err,
    );
    expect(refusal.code).to.equal(GrpcStatus.NOT_FOUND);
    expect((await jobs.list({ limit: 10 })).items).to.deep.equal([]);
  });
});

async function waitForStatus(jobs: MemoryJobStore, jobId: string, status: string) {
  for (let i = 0; i < 100; i++) {
    const job = await jobs.get(jobId);
    if (job?.status === status) return job;
    await settle();
  }
  throw new Error(`job ${jobId} never reached ${status}`);
}
