import { expect } from "chai";
import { MeshError } from "../errors/index.js";
import type { ExecContainerRequest } from "../gen/meshexec/v1/exec.js";
import { validateExecRequest } from "./validate-exec.js";

const good: ExecContainerRequest = { target: "_all", containerId: "web", command: ["true"], env: [], workingDir: "" };

describe("validateExecRequest", () => {
  it("applies the default time limit of 60 s", () => {
    expect(validateExecRequest(good).timeoutMs).to.equal(60_000);
    expect(validateExecRequest({ ...good, timeoutSeconds: 5 }).timeoutMs).to.equal(5_000);
  });

  const cases: Array<[string, Partial<ExecContainerRequest>, RegExp]> = [
    ["an empty command", { command: [] }, /command/],
    ["an empty program", { command: [""] }, /command\[0\]/],
    ["257 arguments", { command: Array(257).fill("x") }, /command/],
    ["an argument over 64 KiB", { command: ["echo", "x".repeat(64 * 1024 + 1)] }, /command\[1\]/],
    ["an env entry without =", { env: ["SECRET"] }, /env\[0\]/],
    ["an env key that is not an identifier", { env: ["A=1", "1B=2"] }, /env\[1\]/],
    ["a NUL in an env value", { env: ["A=1", "B=x\u0000y"] }, /env\[1\] contains a NUL character \(in the value of "B"\)/],
    ["a NUL in an env key", { env: ["A\u0000B=1"] }, /env\[0\] contains a NUL character \(in its key\)/],
    ["a relative working_dir", { workingDir: "tmp" }, /working_dir/],
    ["a container id with a slash", { containerId: "a/b" }, /container_id/],
    ["a container id over 128 characters", { containerId: "a".repeat(129) }, /container_id/],
    ["timeout_seconds 0", { timeoutSeconds: 0 }, /timeout_seconds/],
    ["timeout_seconds 3601", { timeoutSeconds: 3601 }, /timeout_seconds/],
  ];
  for (const [what, change, details] of cases) {
    it(`rejects ${what}`, () => {
      expect(() => validateExecRequest({ ...good, ...change }))
        .to.throw(MeshError)
        .with.property("details")
        .that.matches(details);
    });
  }

  for (const env of [["bad key=hunter2"], ["KEY=hunter2\u0000"]]) {
    it(`never quotes an env value back (${JSON.stringify(env[0])})`, () => {
      expect(() => validateExecRequest({ ...good, env }))
        .to.throw(MeshError)
        .with.property("details")
        .that.does.not.include("hunter2");
    });
  }
});
