import { expect } from "chai";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RuntimeFailure } from "./container-runtime.js";
import { DockerRuntime } from "./docker-runtime.js";

describe("DockerRuntime's failures", () => {
  it("say what they mean for the caller and keep the engine's error as cause", async () => {
    // A socket nobody listens on: dockerode's real request fails with ENOENT.
    const runtime = new DockerRuntime({ socketPath: join(mkdtempSync(join(tmpdir(), "meshexec-no-engine-")), "docker.sock"), outputLimitBytes: 1024 });
    const failure = await runtime.exec({ containerId: "c", command: ["true"], env: [], workingDir: "", timeoutMs: 1_000 }, new AbortController().signal).then(
      () => expect.fail("exec succeeded without an engine"),
      (err: unknown) => err,
    );
    expect(failure).to.be.instanceOf(RuntimeFailure);
    expect(failure).to.include({ reason: "engine-unavailable" });
    expect((failure as RuntimeFailure).cause).to.include({ code: "ENOENT" });
  });
});
