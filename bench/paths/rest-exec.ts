import { RestCaller } from "../rest-caller.js";
import { BENCH_COMMAND, checkRan, type ExecPath } from "./exec-path.js";

/** A REST path's letter, label and the stdout its agent answers with. */
export interface RestPathKind {
  id: "c" | "e";
  label: string;
  stdout: string;
}

export const REST_TO_DOCKER: RestPathKind = { id: "c", label: "meshexec REST edge", stdout: "hello\n" };
/** The no-op runtime runs nothing, so it prints nothing: this path times the mesh with no engine sharing the cores. */
export const REST_TO_NOOP: RestPathKind = { id: "e", label: "meshexec REST, no-op agent", stdout: "" };

/** (c) REST edge → router → agent → Docker: POST …/exec on the edge, naming the agent's host; or (e) the same to the no-op agent. */
export function restExec(gatewayUrl: string, token: string, hostname: string, connections: number, kind = REST_TO_DOCKER): ExecPath {
  const caller = new RestCaller(gatewayUrl, token, connections);
  return {
    id: kind.id,
    label: kind.label,
    async exec(container) {
      const reply = await caller.exec(hostname, container, BENCH_COMMAND);
      if (reply.status !== 202) throw new Error(`REST: HTTP ${reply.status}: ${reply.body.error}: ${reply.body.details}`);
      const result = reply.body.results![0];
      checkRan("REST", result.stdout, result.exit_code, kind.stdout);
      return result.duration_ms;
    },
    close: () => caller.close(),
  };
}
