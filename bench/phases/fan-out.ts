import { BenchChild } from "../child.js";
import { CpuMeter } from "../cpu-meter.js";
import { GrpcCaller } from "../grpc-caller.js";
import type { Mesh } from "../mesh.js";
import { progress } from "../progress.js";
import { round, summarize, type LatencySummary } from "../stats.js";

export interface FanOutAt {
  agents: number;
  agentProcesses: number;
  /** `_all` over gRPC, sequential calls, each answered by every agent. */
  latency: LatencySummary;
  /** The router's own process, after the agents connected and after the calls (peak: VmHWM). */
  routerRssConnectedMiB: number;
  routerRssAfterCallsMiB: number;
  routerPeakRssMiB: number;
  /** Where the router's memory is after the calls, from its own metrics: V8's heap, memory outside it, and RSS. */
  routerMemoryAfterCalls: RouterMemory;
  /**
   * CPU ms per `_all` call: the router, the no-op fleet, and this caller. On 2 cores, with the
   * fleet on the same cores as the router, a call cannot take less than their sum / 2.
   */
  cpuMsPerCall: Record<string, number>;
}

export interface RouterMemory {
  heapTotalMiB: number;
  heapUsedMiB: number;
  externalMiB: number;
  rssMiB: number;
}

/** Reads the router's memory split from the Prometheus text it serves (prom-client's default metrics). */
async function routerMemoryOf(metricsPort: number): Promise<RouterMemory> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const mib = (name: string) => round(Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? NaN) / 1024 / 1024, 1);
  return {
    heapTotalMiB: mib("nodejs_heap_size_total_bytes"),
    heapUsedMiB: mib("nodejs_heap_size_used_bytes"),
    externalMiB: mib("nodejs_external_memory_bytes"),
    rssMiB: mib("process_resident_memory_bytes"),
  };
}

const NOOP_AGENTS = new URL("../noop-agents.js", import.meta.url).pathname;
/** Agents per child process: a few processes use both cores without one Node process per agent. */
const AGENTS_PER_PROCESS = 500;

/**
 * `_all` to N no-op agents: the mesh alone (router fan-out, N streams, merge), with a fresh router
 * per N so its memory is that of N agents and nothing else.
 */
export async function measureFanOut(mesh: Mesh, token: string, fleetSizes: number[], samplesFor: (n: number) => number): Promise<FanOutAt[]> {
  const results: FanOutAt[] = [];
  for (const n of fleetSizes) {
    const router = await mesh.router(`router-fanout-${n}`, "0.0.0.0");
    const fleet: BenchChild[] = [];
    for (let first = 0; first < n; first += AGENTS_PER_PROCESS) {
      const count = Math.min(AGENTS_PER_PROCESS, n - first);
      fleet.push(
        BenchChild.start(`noop-agents-${n}-${first}`, NOOP_AGENTS, [String(router.port), String(first), String(count)], {
          env: { MESHEXEC_AGENT_TOKEN: mesh.joinToken },
          cpuProfileDir: mesh.cpuProfileDir,
        }),
      );
    }
    const caller = new GrpcCaller(`127.0.0.1:${router.port}`, token);
    try {
      await Promise.all(fleet.map((child) => child.waitForLine("agents connected", 120_000)));
      const connected = router.process.memory();
      progress(`fan-out: ${n} no-op agents connected in ${fleet.length} process(es); router RSS ${connected.rssMiB} MiB`);
      const call = async () => {
        const started = performance.now();
        const response = await caller.exec({ target: "_all", containerId: "noop", command: ["true"] });
        const elapsed = performance.now() - started;
        const ok = response.results.filter((r) => r.status === "ok").length;
        if (ok !== n) throw new Error(`_all over ${n} agents: ${ok} ok of ${response.results.length} results`);
        return elapsed;
      };
      for (let i = 0; i < 20; i++) await call();
      const samples: number[] = [];
      const meter = new CpuMeter({ router: router.process, ...Object.fromEntries(fleet.map((child, k) => [`agents ${k + 1}`, child])) });
      const callerCpu = process.cpuUsage();
      for (let i = samplesFor(n); i > 0; i--) samples.push(await call());
      const { user, system } = process.cpuUsage(callerCpu);
      const cpuMsPerCall = { ...meter.perUnit(samples.length), caller: round((user + system) / 1000 / samples.length, 3) };
      const after = router.process.memory();
      const memory = await routerMemoryOf(router.metricsPort);
      const latency = summarize(samples);
      progress(`fan-out: _all over ${n}: p50 ${latency.p50} ms, p99 ${latency.p99} ms; router RSS ${after.rssMiB} MiB (peak ${after.peakRssMiB})`);
      progress(
        `fan-out: router memory after the calls: V8 heap ${memory.heapUsedMiB} used of ${memory.heapTotalMiB} MiB, external ${memory.externalMiB} MiB, RSS ${memory.rssMiB} MiB`,
      );
      results.push({
        agents: n,
        agentProcesses: fleet.length,
        latency,
        routerRssConnectedMiB: connected.rssMiB,
        routerRssAfterCallsMiB: after.rssMiB,
        routerPeakRssMiB: after.peakRssMiB,
        routerMemoryAfterCalls: memory,
        cpuMsPerCall,
      });
    } finally {
      caller.close();
      await Promise.all([...fleet, router.process].map((child) => child.stop()));
    }
  }
  return results;
}
