import { progress } from "../progress.js";
import { round, summarize, type LatencySummary } from "../stats.js";
import type { ExecPath } from "../paths/exec-path.js";

export interface PathLatency extends LatencySummary {
  label: string;
  /** Paths through an agent: the agent runtime's own time (create → inspect) and the rest, the mesh's. */
  agentRuntime?: LatencySummary;
  meshOnly?: LatencySummary;
}

export interface LatencyResult {
  rounds: number;
  warmupRounds: number;
  paths: Record<ExecPath["id"], PathLatency>;
  /** (c) p50 minus (a) p50, in ms: what the mesh adds to one exec. */
  restOverFloorMs: number;
  restOverFloorRatio: number;
  restOverCliRatio: number;
}

interface Samples {
  total: number[];
  agentRuntime: number[];
  meshOnly: number[];
}

/**
 * One exec at a time. Each round runs every path once, in an order that rotates from round to
 * round, so the machine's noise (other work, GC, the engine's own pauses) falls on all of them
 * alike rather than on whichever path ran during a bad second.
 */
export async function measureLatency(paths: ExecPath[], container: string, rounds: number, warmupRounds: number): Promise<LatencyResult> {
  const samples = new Map<ExecPath["id"], Samples>(paths.map((p) => [p.id, { total: [], agentRuntime: [], meshOnly: [] }]));
  for (let round = -warmupRounds; round < rounds; round++) {
    const order = paths.map((_, i) => paths[(i + round + warmupRounds) % paths.length]);
    for (const path of order) {
      const started = performance.now();
      const runtimeMs = await path.exec(container);
      const elapsed = performance.now() - started;
      if (round < 0) continue;
      const s = samples.get(path.id)!;
      s.total.push(elapsed);
      if (runtimeMs !== undefined) {
        s.agentRuntime.push(runtimeMs);
        s.meshOnly.push(elapsed - runtimeMs);
      }
    }
    if (round === -1) progress(`latency: ${warmupRounds} warm-up rounds done`);
    if (round >= 0 && (round + 1) % 50 === 0) {
      const p50s = paths.map((p) => `${p.id} ${summarize(samples.get(p.id)!.total).p50} ms`).join(", ");
      progress(`latency: ${round + 1}/${rounds} rounds; p50 so far: ${p50s}`);
    }
  }
  const result = Object.fromEntries(
    paths.map((p) => {
      const s = samples.get(p.id)!;
      const split = s.agentRuntime.length ? { agentRuntime: summarize(s.agentRuntime), meshOnly: summarize(s.meshOnly) } : {};
      return [p.id, { label: p.label, ...summarize(s.total), ...split }];
    }),
  ) as LatencyResult["paths"];
  return {
    rounds,
    warmupRounds,
    paths: result,
    restOverFloorMs: round(result.c.p50 - result.a.p50),
    restOverFloorRatio: round(result.c.p50 / result.a.p50, 3),
    restOverCliRatio: round(result.c.p50 / result.b.p50, 3),
  };
}
