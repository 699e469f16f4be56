import { expect } from "chai";
import type { HostResult } from "../gen/meshexec/v1/exec.js";
import { GrpcStatus, MeshError } from "../errors/index.js";
import { createLogger } from "../log/index.js";
import { MemoryJobStore, type JobStore } from "../store/index.js";
import { waitFor } from "../../test/support/wait-for.js";
import { JobRecorder } from "./job-recorder.js";

const result = (hostname: string): HostResult => ({
  hostname,
  status: "ok",
  stdout: "",
  stderr: "",
  exitCode: 0,
  changed: true,
  error: "",
  durationMs: 1,
  stdoutTruncated: false,
  stderrTruncated: false,
});

/** A MemoryJobStore whose writes are refused as a database that is down would, while `down` is true; counts its writes. */
class FlakyStore extends MemoryJobStore {
  down = false;
  writes = 0;

  override async addResults(jobId: string, results: HostResult[]): Promise<void> {
    this.refuseWhileDown();
    return super.addResults(jobId, results);
  }

  override async finish(jobId: string, status: Parameters<JobStore["finish"]>[1], error?: string): Promise<void> {
    this.refuseWhileDown();
    return super.finish(jobId, status, error);
  }

  private refuseWhileDown(): void {
    this.writes++;
    if (this.down) throw new MeshError(GrpcStatus.UNAVAILABLE, "database unavailable", "connect ECONNREFUSED 127.0.0.1:5432");
  }
}

describe("JobRecorder", () => {
  const log = createLogger("test", "silent");
  let store: FlakyStore;
  beforeEach(async () => {
    store = new FlakyStore();
    await store.create({
      id: "j",
      router: "",
      subject: "s",
      target: "_all",
      containerId: "c",
      command: ["true"],
      envKeys: [],
      hosts: ["a", "b", "c"],
      createdAt: new Date(),
    });
  });

  it("writes results given one by one in one batch per event-loop turn, then the end", async () => {
    const recorder = new JobRecorder(store, "j", 1_000, log);
    ["c", "a", "b"].forEach((host) => recorder.addResult(result(host)));
    await recorder.finish([], "completed");
    expect(store.writes).to.equal(2);
    expect(await store.get("j")).to.deep.include({ status: "completed", results: [result("a"), result("b"), result("c")] });
  });

  it("keeps the results while the database is down and writes them once it is back", async () => {
    const recorder = new JobRecorder(store, "j", 10_000, log);
    store.down = true;
    const finished = recorder.finish([result("a")], "completed");
    await waitFor("a refused write", () => store.writes >= 2);
    store.down = false;
    await finished;
    expect(await store.get("j")).to.deep.include({ status: "completed", results: [result("a")] });
  });

  it("gives up after its time, rejecting with UNAVAILABLE, and records the job failed once the database is back", async () => {
    const recorder = new JobRecorder(store, "j", 300, log);
    store.down = true;
    const refusal = await recorder.finish([result("a")], "completed").then(
      () => undefined,
      (err: MeshError) => err,
    );
    expect(refusal).to.include({ code: GrpcStatus.UNAVAILABLE, error: "results not recorded" });
    expect((await store.get("j"))?.status).to.equal("running");
    store.down = false;
    const job = await waitFor("the job recorded failed", async () => {
      const found = await store.get("j");
      return found?.status === "failed" && found;
    });
    expect(job.error).to.match(/^results not recorded: database unavailable: connect ECONNREFUSED/);
    expect(job.results).to.deep.equal([]);
  });
});
