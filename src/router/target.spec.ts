import { expect } from "chai";
import { MeshError } from "../errors/index.js";
import { parseTarget } from "./target.js";

describe("parseTarget", () => {
  it("reads _any, _all, hostnames and key:value selectors", () => {
    expect(parseTarget("_any")).to.deep.equal({ kind: "any" });
    expect(parseTarget("_all")).to.deep.equal({ kind: "all" });
    expect(parseTarget("web-01.example.com")).to.deep.equal({ kind: "host", hostname: "web-01.example.com" });
    expect(parseTarget("role:web")).to.deep.equal({ kind: "label", key: "role", value: "web" });
    expect(parseTarget("k8s.io_x-y:v1.2_3")).to.deep.equal({ kind: "label", key: "k8s.io_x-y", value: "v1.2_3" });
    expect(parseTarget("_tier:gold")).to.deep.equal({ kind: "label", key: "_tier", value: "gold" });
  });

  for (const bad of ["", "_other", "_", "a:b:c", ":v", "k:", "-lead", "trail-", "a..b", "a b", `${"a".repeat(64)}.com`, `${"a.".repeat(127)}ab`, "k:v/w"]) {
    it(`rejects ${JSON.stringify(bad.length > 30 ? bad.slice(0, 30) + "…" : bad)} as INVALID_ARGUMENT naming the target`, () => {
      expect(() => parseTarget(bad))
        .to.throw(MeshError)
        .with.property("details")
        .that.matches(/target|selector/);
    });
  }

  it("accepts a hostname of exactly 253 characters", () => {
    const name = `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`;
    expect(name).to.have.length(253);
    expect(parseTarget(name)).to.deep.equal({ kind: "host", hostname: name });
  });
});
