import { expect } from "chai";
import { AgentsReadiness } from "./agents-readiness.js";

describe("AgentsReadiness", () => {
  const watch = (config: { minAgents: number; settleMs: number }) => {
    const reports: boolean[] = [];
    const readiness = new AgentsReadiness(config, (ready) => reports.push(ready));
    return { readiness, last: () => reports.at(-1) };
  };

  it("waits for minAgents at once, then needs only one", () => {
    const { readiness, last } = watch({ minAgents: 3, settleMs: 0 });
    expect(last()).to.equal(false);
    readiness.agentsConnected(2);
    expect(last()).to.equal(false);
    readiness.agentsConnected(3);
    expect(last()).to.equal(true);
    readiness.agentsConnected(1);
    expect(last()).to.equal(true);
    readiness.agentsConnected(0);
    expect(last()).to.equal(false);
  });

  it("waits out the settling time even with agents connected", async () => {
    const { readiness, last } = watch({ minAgents: 1, settleMs: 30 });
    readiness.agentsConnected(1);
    expect(last()).to.equal(false);
    const deadline = Date.now() + 5_000;
    while (!last() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(last()).to.equal(true);
  });

  it("is never ready while draining", () => {
    const { readiness, last } = watch({ minAgents: 1, settleMs: 0 });
    readiness.agentsConnected(1);
    readiness.drain();
    expect(last()).to.equal(false);
    readiness.agentsConnected(2);
    expect(last()).to.equal(false);
  });
});
