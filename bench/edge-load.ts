/**
 * Entry point of the load generator, a child process of its own so that its CPU shows as
 * its own and not as the bench's. Keeps `connections` calls in flight, one per connection,
 * for warmupMs unmeasured and then durationMs measured, and prints {"msg":"load done", …}.
 * Usage: node edge-load.js '{"via":"grpc"|"rest", "address", "token", "target", "connections", "warmupMs", "durationMs"}'
 */
import { GrpcCaller } from "./grpc-caller.js";
import { RestCaller } from "./rest-caller.js";

export interface LoadSpec {
  via: "grpc" | "rest";
  /** HOST:PORT of the router for grpc, the edge's base URL for rest. */
  address: string;
  token: string;
  target: string;
  connections: number;
  warmupMs: number;
  durationMs: number;
}

const spec = JSON.parse(process.argv[2]) as LoadSpec;
const command = ["true"];
const call = callerFor(spec);

let measuring = false;
let completed = 0;
let allCompleted = 0;
let errors = 0;
let firstError: string | undefined;
const warmupEnds = performance.now() + spec.warmupMs;
const measureEnds = warmupEnds + spec.durationMs;
setTimeout(() => (measuring = true), spec.warmupMs);

await Promise.all(
  Array.from({ length: spec.connections }, async () => {
    while (performance.now() < measureEnds) {
      try {
        await call();
        allCompleted++;
        if (measuring && performance.now() <= measureEnds) completed++;
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
      }
    }
  }),
);
const { user, system } = process.cpuUsage();
const cpuMsPerRequest = (user + system) / 1000 / allCompleted;
process.stdout.write(
  `${JSON.stringify({ msg: "load done", requestsPerSecond: completed / (spec.durationMs / 1000), completed, allCompleted, cpuMsPerRequest, errors, firstError })}\n`,
);
process.exit(0);

function callerFor(spec: LoadSpec): () => Promise<void> {
  if (spec.via === "rest") {
    const caller = new RestCaller(spec.address, spec.token, spec.connections);
    return async () => {
      const reply = await caller.exec(spec.target, "noop", command);
      if (reply.status !== 202 || reply.body.results?.[0]?.status !== "ok") throw new Error(`HTTP ${reply.status}: ${reply.body.details}`);
    };
  }
  const caller = new GrpcCaller(spec.address, spec.token, spec.connections);
  return async () => {
    const response = await caller.exec({ target: spec.target, containerId: "noop", command });
    if (response.results[0]?.status !== "ok") throw new Error(`result ${response.results[0]?.status}: ${response.results[0]?.error}`);
  };
}
