import { expect } from "chai";
import type { AgentHello } from "../gen/meshexec/v1/agent.js";
import { MeshError } from "../errors/index.js";
import { validateHello } from "./validate-hello.js";

describe("validateHello", () => {
  const hello = (over: Partial<AgentHello> = {}): AgentHello => ({ hostname: "web-1", labels: { role: "web" }, version: "1.0.0", instanceId: "abc", ...over });
  const refusal = (over: Partial<AgentHello>) => {
    try {
      validateHello(hello(over));
    } catch (err) {
      expect(err).to.be.instanceOf(MeshError);
      return err as MeshError;
    }
    return expect.fail("the hello was accepted");
  };

  it("accepts 64 labels at their largest, with a DNS prefix", () => {
    const labels = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`${"p".repeat(250)}.io/${String(i).padEnd(63, "k")}`, "v".repeat(63)]));
    expect(validateHello(hello({ labels })).labels).to.equal(labels);
  });

  it("refuses a 65th label, a long key, value or version, a bad prefix or charset, and quotes no value in full", () => {
    const big = "x".repeat(1_000_000);
    const cases: Array<[Partial<AgentHello>, RegExp]> = [
      [{ labels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"])) }, /at most 64 labels, got 65/],
      [{ labels: { ["k".repeat(64)]: "v" } }, /name must be 1 to 63/],
      [{ labels: { role: big } }, /value must be 1 to 63/],
      [{ labels: { "Example.com/role": "web" } }, /prefix/],
      [{ labels: { "ro le": "web" } }, /\[A-Za-z0-9_.-\]/],
      [{ version: big }, /longer than 64/],
      [{ instanceId: big }, /longer than 128/],
      [{ hostname: big }, /RFC 1123/],
    ];
    for (const [over, details] of cases) {
      const err = refusal(over);
      expect(err.details).to.match(details);
      expect(err.details.length).to.be.below(400);
    }
  });
});
