import { expect } from "chai";
import { ExecFailureReason } from "../gen/meshexec/v1/agent.js";
import type { ExecRequestMessage, HostOutcome } from "./agent-session.js";
import { fanOut, runOnOne, type DispatchOptions } from "./dispatch.js";
import type { ExecDeliverer, HostLink } from "./host-link.js";
import { KeptOutput } from "./kept-output.js";
import { JobCancellation } from "./job-cancellation.js";

const ran = (stdout: string): HostOutcome => ({
  $case: "completed",
  value: { stdout, stderr: "", exitCode: 0, timedOut: false, stdoutTruncated: false, stderrTruncated: false, durationMs: 1 },
});
const refused = (message: string): HostOutcome => ({ $case: "failed", value: { reason: ExecFailureReason.EXEC_FAILURE_REASON_UNSPECIFIED, message } });
const lost = (message: string): HostOutcome => ({ $case: "unanswered", value: { status: "failed", message } });

/**
 * An in-memory deliverer: a router holding some hosts, or (with one host) an agent session.
 * `answer` decides each host's outcome; undefined leaves it running until giveUp.
 */
class FakeDeliverer implements ExecDeliverer {
  readonly deliveries: string[][] = [];
  readonly giveUps: Array<{ status: string; message: string }> = [];
  private pending: Array<{ requestId: string; onOutcome: (outcome: HostOutcome) => void }> = [];

  constructor(private readonly answer: (hostname: string) => HostOutcome | undefined) {}

  deliver(request: ExecRequestMessage, hosts: readonly HostLink[], onOutcome: (index: number, outcome: HostOutcome) => void): void {
    this.deliveries.push(hosts.map((h) => h.hostname));
    hosts.forEach((host, i) => {
      const outcome = this.answer(host.hostname);
      if (outcome) queueMicrotask(() => onOutcome(i, outcome));
      else this.pending.push({ requestId: request.kind.value.requestId, onOutcome: (o) => onOutcome(i, o) });
    });
  }

  giveUp(requestId: string, status: "failed" | "timeout" | "cancelled", message: string): void {
    this.giveUps.push({ status, message });
    const waiting = this.pending.filter((p) => p.requestId === requestId);
    this.pending = this.pending.filter((p) => p.requestId !== requestId);
    waiting.forEach((p) => p.onOutcome({ $case: "unanswered", value: { status, message } }));
  }
}

const hostOn = (hostname: string, deliverer: ExecDeliverer, draining = false): HostLink => ({
  hostname,
  labels: {},
  draining,
  inFlight: 0,
  router: "r",
  deliverer,
});

/** A host that delivers its own execs, as an AgentSession does. */
function sessionLike(hostname: string, answer: (hostname: string) => HostOutcome | undefined): HostLink & { fake: FakeDeliverer } {
  const fake = new FakeDeliverer(answer);
  const link = { hostname, labels: {}, draining: false, inFlight: 0, router: "here", fake } as HostLink & { fake: FakeDeliverer };
  Object.assign(link, { deliverer: link, deliver: fake.deliver.bind(fake), giveUp: fake.giveUp.bind(fake) });
  return link;
}

const order = {
  containerId: "c",
  command: ["true"],
  env: [],
  workingDir: "",
  timeoutMs: 1_000,
  allowedContainers: [],
  trace: undefined,
  streamOutput: false,
  stdin: Buffer.alloc(0),
};
function options(overrides: Partial<DispatchOptions> = {}): DispatchOptions {
  return {
    signal: new AbortController().signal,
    answerWithinMs: 5_000,
    kept: new KeptOutput({ env: [], hostOutputLimitBytes: 1_000, totalOutputLimitBytes: 10_000 }),
    ...overrides,
  };
}

describe("dispatch over host links", () => {
  it("sends one delivery per remote router for all its hosts, and one per local session", async () => {
    const remote = new FakeDeliverer((h) => ran(h));
    const local = sessionLike("h0", (h) => ran(h));
    const results = await fanOut([hostOn("h2", remote), local, hostOn("h1", remote)], order, options());
    expect(remote.deliveries).to.deep.equal([["h2", "h1"]]);
    expect(local.fake.deliveries).to.deep.equal([["h0"]]);
    expect(results.map((r) => [r.hostname, r.status, r.stdout])).to.deep.equal([
      ["h0", "ok", "h0"],
      ["h1", "ok", "h1"],
      ["h2", "ok", "h2"],
    ]);
  });

  it("does not ask a draining host, and still lists it", async () => {
    const remote = new FakeDeliverer((h) => ran(h));
    const results = await fanOut([hostOn("a", remote), hostOn("b", remote, true)], order, options());
    expect(remote.deliveries).to.deep.equal([["a"]]);
    expect(results.map((r) => [r.hostname, r.status])).to.deep.equal([
      ["a", "ok"],
      ["b", "failed"],
    ]);
  });

  it("runOnOne moves on after a refusal (nothing ran), and never past a lost router (it may have run)", async () => {
    const refusing = new FakeDeliverer(() => refused("router r1 has no responders on NATS; nothing ran"));
    const losing = new FakeDeliverer(() => lost("router lost: r2"));
    const never = new FakeDeliverer((h) => ran(h));
    const result = await runOnOne([hostOn("a", refusing), hostOn("b", losing), hostOn("c", never)], order, options());
    expect(result).to.include({ hostname: "b", status: "failed", changed: false, error: "router lost: r2" });
    expect(never.deliveries).to.deep.equal([]);
  });

  it("runOnOne takes the first candidate that runs it", async () => {
    const refusing = new FakeDeliverer(() => refused("overloaded"));
    const running = new FakeDeliverer((h) => ran(h));
    const result = await runOnOne([hostOn("a", refusing), hostOn("b", running)], order, options());
    expect(result).to.include({ hostname: "b", status: "ok" });
  });

  it("gives up on every deliverer at the deadline, once per delivery", async () => {
    const silent = new FakeDeliverer(() => undefined);
    const local = sessionLike("l", () => undefined);
    const results = await fanOut([hostOn("a", silent), hostOn("b", silent), local], order, options({ answerWithinMs: 20 }));
    expect(silent.giveUps).to.have.length(1);
    expect(local.fake.giveUps).to.have.length(1);
    expect(results.map((r) => r.status)).to.deep.equal(["timeout", "timeout", "timeout"]);
  });

  it("gives up on every deliverer when the caller goes away", async () => {
    const silent = new FakeDeliverer(() => undefined);
    const caller = new AbortController();
    const running = fanOut([hostOn("a", silent), hostOn("b", silent)], order, options({ signal: caller.signal }));
    caller.abort();
    const results = await running;
    expect(silent.giveUps).to.deep.equal([{ status: "failed", message: "cancelled: the caller went away" }]);
    expect(results.map((r) => r.error)).to.deep.equal(["cancelled: the caller went away", "cancelled: the caller went away"]);
  });

  describe("rolling (max_concurrency, max_errors)", () => {
    const exited = (code: number): HostOutcome => ({
      $case: "completed",
      value: { stdout: "", stderr: "", exitCode: code, timedOut: false, stdoutTruncated: false, stderrTruncated: false, durationMs: 1 },
    });

    /** Answers each host on a later turn of the event loop, counting how many run at once. */
    class ProbeDeliverer extends FakeDeliverer {
      running = 0;
      most = 0;
      constructor(private readonly exitCodeOf: (hostname: string) => number) {
        super(() => undefined);
      }
      override deliver(_request: ExecRequestMessage, hosts: readonly HostLink[], onOutcome: (index: number, outcome: HostOutcome) => void): void {
        this.deliveries.push(hosts.map((h) => h.hostname));
        this.running += hosts.length;
        this.most = Math.max(this.most, this.running);
        setImmediate(() => {
          this.running -= hosts.length;
          hosts.forEach((h, i) => onOutcome(i, exited(this.exitCodeOf(h.hostname))));
        });
      }
    }
    const names = ["e", "c", "a", "d", "b"];

    it("starts hosts one delivery each, in hostname order, at most max_concurrency at once", async () => {
      const probe = new ProbeDeliverer(() => 0);
      const results = await fanOut(
        names.map((n) => hostOn(n, probe)),
        order,
        options(),
        { maxConcurrency: 2 },
      );
      expect(probe.deliveries).to.deep.equal([["a"], ["b"], ["c"], ["d"], ["e"]]);
      expect(probe.most).to.equal(2);
      expect(results.map((r) => r.status)).to.deep.equal(["ok", "ok", "ok", "ok", "ok"]);
    });

    it("keeps one delivery per router when every host may run at once", async () => {
      const probe = new ProbeDeliverer(() => 1);
      await fanOut([hostOn("a", probe), hostOn("b", probe)], order, options(), { maxConcurrency: 2, maxErrors: 1 });
      expect(probe.deliveries).to.deep.equal([["a", "b"]]);
    });

    it("starts no more hosts once the errors exceed max_errors; the rest end skipped, sorted", async () => {
      const probe = new ProbeDeliverer((h) => (h === "a" || h === "b" ? 1 : 0));
      const results = await fanOut(
        names.map((n) => hostOn(n, probe)),
        order,
        options(),
        { maxConcurrency: 1, maxErrors: 1 },
      );
      expect(probe.deliveries).to.deep.equal([["a"], ["b"]]);
      expect(results.map((r) => [r.hostname, r.status, r.exitCode])).to.deep.equal([
        ["a", "ok", 1],
        ["b", "ok", 1],
        ["c", "skipped", undefined],
        ["d", "skipped", undefined],
        ["e", "skipped", undefined],
      ]);
      expect(results[2]).to.include({ changed: false, error: "not started: 2 errors exceeded max_errors 1" });
    });

    it("on a job cancel, ends the running hosts cancelled and skips the others", async () => {
      const silent = new FakeDeliverer(() => undefined);
      const cancel = new AbortController();
      const running = fanOut(
        ["a", "b", "c"].map((n) => hostOn(n, silent)),
        order,
        options({ signal: cancel.signal }),
        { maxConcurrency: 1 },
      );
      cancel.abort(new JobCancellation("cancelled by ops"));
      const results = await running;
      expect(results.map((r) => [r.hostname, r.status, r.error])).to.deep.equal([
        ["a", "cancelled", "cancelled by ops; the process was killed"],
        ["b", "skipped", "not started: the job was cancelled"],
        ["c", "skipped", "not started: the job was cancelled"],
      ]);
    });
  });
});
