import { BenchChild } from "../child.js";
import { CpuMeter } from "../cpu-meter.js";
import { progress } from "../progress.js";
import { RestCaller } from "../rest-caller.js";
import { round } from "../stats.js";
import { ensureWrk, wrkExec } from "../wrk.js";
import type { LoadSpec } from "../edge-load.js";

export interface EdgeResult {
  connections: number;
  seconds: number;
  /** REST edge → router → no-op agent. */
  restRequestsPerSecond: number;
  restLoadGenerator: "wrk" | "node";
  /** gRPC caller → router → no-op agent, no edge. */
  grpcRequestsPerSecond: number;
  /** CPU ms per request of each mesh process during the measured windows. */
  restCpuMsPerRequest: Record<string, number>;
  grpcCpuMsPerRequest: Record<string, number>;
  errors: number;
}

const EDGE_LOAD = new URL("../edge-load.js", import.meta.url).pathname;
const WARMUP_SECONDS = 3;

/**
 * Requests/s through the edge and straight to the router, with an agent that answers at once,
 * so the number is the mesh's own capacity, not the engine's. The load runs in another process.
 */
export async function measureEdge(
  gatewayUrl: string,
  routerAddress: string,
  token: string,
  hostname: string,
  mesh: { router: BenchChild; gateway: BenchChild; agent: BenchChild },
  connections: number,
  seconds: number,
): Promise<EdgeResult> {
  const check = await new RestCaller(gatewayUrl, token).exec(hostname, "noop", ["true"]);
  if (check.status !== 202 || check.body.results?.[0]?.status !== "ok") throw new Error(`edge check: HTTP ${check.status} ${JSON.stringify(check.body)}`);

  let rest: LoadResult;
  const useWrk = ensureWrk();
  const url = `${gatewayUrl}/node/${hostname}/container/docker/noop/exec`;
  if (useWrk) {
    await wrkExec(url, token, connections, WARMUP_SECONDS);
    const meter = new CpuMeter(mesh);
    const measured = await wrkExec(url, token, connections, seconds);
    rest = {
      requestsPerSecond: measured.requestsPerSecond,
      errors: measured.non2xx + (measured.socketErrors ? 1 : 0),
      cpuMsPerRequest: meter.perUnit(measured.requests),
    };
  } else {
    progress("edge: wrk unavailable; REST load comes from the Node load generator");
    rest = await nodeLoad(
      { via: "rest", address: gatewayUrl, token, target: hostname, connections, warmupMs: WARMUP_SECONDS * 1000, durationMs: seconds * 1000 },
      mesh,
    );
  }
  progress(`edge: REST at ${connections} connections: ${round(rest.requestsPerSecond, 0)} req/s${rest.errors ? `, ${rest.errors} errors` : ""}`);
  const grpc = await nodeLoad(
    { via: "grpc", address: routerAddress, token, target: hostname, connections, warmupMs: WARMUP_SECONDS * 1000, durationMs: seconds * 1000 },
    { router: mesh.router, agent: mesh.agent },
  );
  progress(`edge: gRPC at ${connections} connections: ${round(grpc.requestsPerSecond, 0)} req/s${grpc.errors ? `, ${grpc.errors} errors` : ""}`);
  return {
    connections,
    seconds,
    restRequestsPerSecond: round(rest.requestsPerSecond, 0),
    restLoadGenerator: useWrk ? "wrk" : "node",
    grpcRequestsPerSecond: round(grpc.requestsPerSecond, 0),
    restCpuMsPerRequest: rest.cpuMsPerRequest,
    grpcCpuMsPerRequest: grpc.cpuMsPerRequest,
    errors: rest.errors + grpc.errors,
  };
}

interface LoadResult {
  requestsPerSecond: number;
  errors: number;
  cpuMsPerRequest: Record<string, number>;
}

/** The Node load generator; CPU is metered over its whole run, warm-up included, against every request it completed. */
async function nodeLoad(spec: LoadSpec, metered: Record<string, BenchChild>): Promise<LoadResult> {
  const meter = new CpuMeter(metered);
  const load = BenchChild.start(`edge-load-${spec.via}`, EDGE_LOAD, [JSON.stringify(spec)]);
  const done = await load.waitForLine("load done", spec.warmupMs + spec.durationMs + 30_000);
  if (done.firstError) progress(`edge: ${spec.via} load errors: ${done.firstError}`);
  return {
    requestsPerSecond: Number(done.requestsPerSecond),
    errors: Number(done.errors),
    cpuMsPerRequest: { ...meter.perUnit(Number(done.allCompleted)), "load generator": round(Number(done.cpuMsPerRequest), 3) },
  };
}
