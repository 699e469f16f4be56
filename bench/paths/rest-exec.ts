import { RestCaller } from "../rest-caller.js";
import { BENCH_COMMAND, checkRan, type ExecPath } from "./exec-path.js";

/** (c) REST edge → router → agent → Docker: POST …/exec on the edge, naming the agent's host. */
export function restExec(gatewayUrl: string, token: string, hostname: string, connections: number): ExecPath {
  const caller = new RestCaller(gatewayUrl, token, connections);
  return {
    id: "c",
    label: "meshexec REST edge",
    async exec(container) {
      const reply = await caller.exec(hostname, container, BENCH_COMMAND);
      if (reply.status !== 202) throw new Error(`REST: HTTP ${reply.status}: ${reply.body.error}: ${reply.body.details}`);
      const result = reply.body.results![0];
      checkRan("REST", result.stdout, result.exit_code);
      return result.duration_ms;
    },
    close: () => caller.close(),
  };
}
