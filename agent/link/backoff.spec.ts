import { expect } from "chai";
import { backoffDelayMs } from "./backoff.js";

describe("backoffDelayMs (gRPC connection backoff)", () => {
  const middle = () => 0.5;
  it("starts at 1 s and grows ×1.6 up to 120 s", () => {
    expect([0, 1, 2, 3].map((n) => backoffDelayMs(n, undefined, middle))).to.deep.equal([1000, 1600, 2560, 4096]);
    expect(backoffDelayMs(20, undefined, middle)).to.equal(120_000);
  });
  it("jitters by ±20 %", () => {
    expect(backoffDelayMs(0, undefined, () => 0)).to.equal(800);
    expect(backoffDelayMs(0, undefined, () => 1)).to.equal(1200);
    expect(backoffDelayMs(30, undefined, () => 1)).to.equal(144_000);
  });
});
