import { GrpcCaller } from "../grpc-caller.js";
import { BENCH_COMMAND, checkRan, type ExecPath } from "./exec-path.js";

/** (d) gRPC caller → router → agent → Docker: ExecContainer straight on the router. */
export function grpcExec(routerAddress: string, token: string, hostname: string): ExecPath {
  const caller = new GrpcCaller(routerAddress, token);
  return {
    id: "d",
    label: "meshexec gRPC caller",
    async exec(container) {
      const response = await caller.exec({ target: hostname, containerId: container, command: BENCH_COMMAND });
      checkRan("gRPC", response.results[0].stdout, response.results[0].exitCode);
      return response.results[0].durationMs;
    },
    close: () => caller.close(),
  };
}
