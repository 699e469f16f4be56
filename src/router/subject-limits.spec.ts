import { expect } from "chai";
import { GrpcStatus, type MeshError } from "../errors/index.js";
import { SubjectLimits } from "./subject-limits.js";

describe("SubjectLimits", () => {
  let clockMs = 0;
  const limits = (ratePerSecond: number, burst: number, maxConcurrent: number) => new SubjectLimits({ ratePerSecond, burst, maxConcurrent }, () => clockMs);
  const refusalOf = (admit: () => unknown): MeshError => {
    try {
      admit();
    } catch (err) {
      return err as MeshError;
    }
    return expect.fail("admitted past the limit");
  };

  beforeEach(() => (clockMs = 1_000_000));

  it("lets a burst through, then the rate, each subject on its own, with the seconds to wait", () => {
    const subject = limits(2, 4, 0);
    for (let i = 0; i < 4; i++) subject.admit("alice").release();
    const refused = refusalOf(() => subject.admit("alice"));
    expect(refused).to.include({ code: GrpcStatus.RESOURCE_EXHAUSTED, error: "rate limited", retryAfterSeconds: 1 });
    expect(refused.details).to.include('subject "alice"').and.include("--rate-limit");
    subject.admit("bob").release();
    clockMs += 500;
    subject.admit("alice").release();
    expect(() => subject.admit("alice")).to.throw();
  });

  it("says to wait longer when the rate is below one a second", () => {
    const subject = limits(0.25, 1, 0);
    subject.admit("alice");
    expect(refusalOf(() => subject.admit("alice")).retryAfterSeconds).to.equal(4);
  });

  it("caps the execs a subject has running, and frees a slot on release, once", () => {
    const subject = limits(0, 0, 2);
    const first = subject.admit("alice");
    subject.admit("alice");
    expect(refusalOf(() => subject.admit("alice"))).to.include({ error: "too many execs running", retryAfterSeconds: 1 });
    first.release();
    first.release();
    subject.admit("alice");
    expect(() => subject.admit("alice")).to.throw();
  });

  it("forgets idle subjects, so memory follows the active ones only", () => {
    const subject = limits(10, 10, 5);
    for (let i = 0; i < 1_000; i++) subject.admit(`caller-${i}`).release();
    const running = subject.admit("still-running");
    expect(subject.size).to.equal(1_001);
    clockMs += 10_000;
    subject.admit("one-more").release();
    expect(subject.size).to.equal(2);
    running.release();
  });
});
