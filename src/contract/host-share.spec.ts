import { expect } from "chai";
import { hostsOfShare, parseHostShare } from "./host-share.js";

describe("host shares (max_concurrency, max_errors)", () => {
  it("reads a whole number or a percentage; absent is undefined", () => {
    expect(parseHostShare("max_errors", undefined)).to.equal(undefined);
    expect(parseHostShare("max_errors", "1")).to.deep.equal({ count: 1 });
    expect(parseHostShare("max_errors", "1000000")).to.deep.equal({ count: 1_000_000 });
    expect(parseHostShare("max_errors", "100%")).to.deep.equal({ percent: 100 });
    expect(parseHostShare("max_errors", "1%")).to.deep.equal({ percent: 1 });
  });

  it("refuses 0, negatives, 0%, past 100%, leading zeros, fractions and words, naming the field", () => {
    for (const value of ["0", "-1", "0%", "150%", "101%", "010", "1.5", "1000001", "ten", "", " 1", "1 %"]) {
      expect(() => parseHostShare("max_concurrency", value), value).to.throw(/^invalid max_concurrency: max_concurrency must be/);
    }
  });

  it("rounds a percentage of the targeted hosts up, to at least 1", () => {
    expect(hostsOfShare({ percent: 10 }, 41)).to.equal(5);
    expect(hostsOfShare({ percent: 40 }, 5)).to.equal(2);
    expect(hostsOfShare({ percent: 1 }, 3)).to.equal(1);
    expect(hostsOfShare({ percent: 50 }, 0)).to.equal(1);
    expect(hostsOfShare({ count: 7 }, 3)).to.equal(7);
  });
});
