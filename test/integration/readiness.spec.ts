import { expect } from "chai";
import { TestStack } from "../support/test-stack.js";
import { waitFor } from "../support/wait-for.js";

/** GET /ready waits for what the operator told the router: --ready-min-agents and --ready-settle. */
describe("readiness", function () {
  this.timeout(30_000);
  let stack: TestStack | undefined;
  afterEach(() => stack?.stop());

  it("turns 200 only once --ready-min-agents are connected, and stays 200 when one of them leaves", async () => {
    stack = await TestStack.start([{ hostname: "ready-1", labels: { role: "web" } }], { routerArgs: ["--ready-min-agents", "2"] });
    const notYet = await stack.request("GET", "/ready");
    expect(notYet.status).to.equal(503);
    expect(notYet.body.details).to.include("--ready-min-agents");

    await stack.startAgent({ hostname: "ready-2", labels: { role: "web" } });
    await waitFor("/ready to turn 200", async () => (await stack!.request("GET", "/ready")).status === 200);

    // Losing one of them later must not take the edge out of its load balancer.
    await stack.agents.get("ready-2")!.stop();
    await waitFor("the router to see ready-2 go", async () => (await stack!.connectedAgents()).length === 1);
    expect((await stack.request("GET", "/ready")).status).to.equal(200);
  });

  it("is 503 within --ready-settle after the router starts, agents connected or not", async () => {
    stack = await TestStack.start([{ hostname: "settling" }], { routerArgs: ["--ready-settle", "1h"] });
    const reply = await stack.request("GET", "/ready");
    expect(reply.status).to.equal(503);
    expect(reply.body.details).to.include("--ready-settle");
    expect((await stack.request("GET", "/health")).status).to.equal(200);
  });
});
