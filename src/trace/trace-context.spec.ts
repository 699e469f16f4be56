import { expect } from "chai";
import { continueTrace, traceIdOf } from "./trace-context.js";

describe("continueTrace", () => {
  const incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

  it("keeps the trace id, flags, tracestate and request id, with a new parent id", () => {
    const next = continueTrace({ requestId: "req-1", traceparent: incoming, tracestate: "congo=t61rcWkgMzE" });
    expect(traceIdOf(next.traceparent)).to.equal("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(next.traceparent).to.match(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    expect(next.traceparent).to.not.equal(incoming);
    expect(next).to.include({ requestId: "req-1", tracestate: "congo=t61rcWkgMzE" });
  });

  for (const bad of ["", "garbage", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"]) {
    it(`starts a new trace for ${JSON.stringify(bad)}, dropping its tracestate`, () => {
      const next = continueTrace({ traceparent: bad, tracestate: "a=b" });
      expect(next.traceparent).to.match(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      expect(next.tracestate).to.equal("");
      expect(next.requestId).to.match(/^[0-9a-f-]{36}$/);
    });
  }

  it("replaces a request id with spaces or control characters", () => {
    expect(continueTrace({ requestId: "a b" }).requestId).to.not.equal("a b");
    expect(continueTrace({ requestId: "x".repeat(201) }).requestId).to.have.length(36);
  });
});
