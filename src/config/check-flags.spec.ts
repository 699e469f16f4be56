import { expect } from "chai";
import { InvalidFlags, checkFlags } from "./check-flags.js";
import { parseDuration, parsePositiveInt } from "./flags.js";

describe("checkFlags", () => {
  it("returns every parsed value", () => {
    expect(checkFlags({ drain: () => parseDuration("drain-timeout", "2s"), slots: () => parsePositiveInt("max-in-flight", "4") })).to.deep.equal({
      drain: 2000,
      slots: 4,
    });
  });
  it("reports every bad flag, not only the first", () => {
    const thrown = (() => {
      try {
        checkFlags({ drain: () => parseDuration("drain-timeout", "soon"), ok: () => 1, slots: () => parsePositiveInt("max-in-flight", "0") });
      } catch (err) {
        return err;
      }
    })();
    expect(thrown).to.be.instanceOf(InvalidFlags);
    expect((thrown as InvalidFlags).problems.map((p) => p.error)).to.deep.equal(["invalid --drain-timeout", "invalid --max-in-flight"]);
  });
  it("throws one bad flag as it is, and anything but a refusal as the bug it is", () => {
    expect(() => checkFlags({ drain: () => parseDuration("drain-timeout", "soon") }))
      .to.throw(/invalid --drain-timeout/)
      .that.is.not.instanceOf(InvalidFlags);
    expect(() =>
      checkFlags({
        bug: () => {
          throw new TypeError("x is undefined");
        },
      }),
    ).to.throw(TypeError);
  });
});
