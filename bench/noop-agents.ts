/**
 * Entry point of a child process holding many agents at once, each answering every exec at
 * once through NoopRuntime: a fleet for benchmarking the mesh alone, on a 2-core machine.
 * Usage: node noop-agents.js ROUTER_PORT FIRST_INDEX COUNT (the router's --insecure-join-token in MESHEXEC_AGENT_TOKEN).
 * Prints {"msg":"agents connected"} once the router has welcomed every one.
 */
import { Agent, NoopRuntime } from "../agent/index.js";
import { createLogger } from "../src/log/index.js";
import { MESHEXEC_VERSION } from "../src/version.js";
import { noopAgentAddress, noopAgentHostname } from "./noop-fleet.js";

const [routerPort, firstIndex, count] = process.argv.slice(2).map(Number);
const log = createLogger("noop-agents", "warn");
const runtime = new NoopRuntime();

const agents = Array.from({ length: count }, (_, k) => {
  const index = firstIndex + k;
  return new Agent({
    routers: [`${noopAgentAddress(index)}:${routerPort}`],
    hostname: noopAgentHostname(index),
    labels: {},
    token: process.env.MESHEXEC_AGENT_TOKEN ?? "",
    runtime,
    log,
    version: MESHEXEC_VERSION,
  }).start();
});

await Promise.all(agents.map((agent) => agent.link.whenConnected()));
process.stdout.write(`${JSON.stringify({ msg: "agents connected", count })}\n`);

const stop = () => {
  agents.forEach((agent) => agent.link.stop());
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
