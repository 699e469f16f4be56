import type { SeveralRouters } from "./phases/several-routers.js";
import type { EdgeResult } from "./phases/edge.js";
import type { FanOutAt } from "./phases/fan-out.js";
import type { LatencyResult } from "./phases/latency.js";
import type { LiveOutputResult } from "./phases/live-output.js";
import type { ThroughputAt } from "./phases/throughput.js";

export interface Verdict {
  target: string;
  measured: string;
  pass: boolean;
}

export interface Measured {
  latency?: LatencyResult;
  throughput?: ThroughputAt[];
  fanOut?: FanOutAt[];
  edge?: EdgeResult;
  severalRouters?: SeveralRouters;
  liveOutput?: LiveOutputResult;
}

/** The issue's targets, each judged against this run's figures; a phase that did not run yields no verdict. */
export function judge(m: Measured): Verdict[] {
  const verdicts: Verdict[] = [];
  if (m.severalRouters) {
    const { hop } = m.severalRouters;
    verdicts.push({
      target: "forwarding hop ≤ 1 ms at p50",
      measured: `+${hop.extraP50Ms} ms (${hop.forwarded.p50} vs ${hop.holding.p50} ms)`,
      pass: hop.extraP50Ms <= 1,
    });
  }
  if (m.latency) {
    const { a, b, c } = m.latency.paths;
    verdicts.push({ target: "(c) p50 ≤ (a) p50 + 3 ms", measured: `${c.p50} ≤ ${a.p50} + 3 ms (+${m.latency.restOverFloorMs} ms)`, pass: c.p50 <= a.p50 + 3 });
    verdicts.push({ target: "(c) faster than (b), p50", measured: `${c.p50} ms vs ${b.p50} ms`, pass: c.p50 < b.p50 });
  }
  for (const t of m.throughput ?? []) {
    verdicts.push({
      target: `throughput (c) ≥ 0.9 × (a), concurrency ${t.concurrency}`,
      measured: `${t.restExecsPerSecond} vs ${t.floorExecsPerSecond} execs/s (×${t.ratio})${t.errors ? `, ${t.errors} errors` : ""}`,
      pass: t.ratio >= 0.9 && t.errors === 0,
    });
  }
  const thousand = m.fanOut?.find((f) => f.agents === 1000);
  if (thousand) {
    verdicts.push({
      target: "_all over 1,000 agents: p50 ≤ 30 ms",
      measured: `${thousand.latency.p50} ms (p99 ${thousand.latency.p99} ms)`,
      pass: thousand.latency.p50 <= 30,
    });
    verdicts.push({
      target: "router RSS at 1,000 agents ≤ 200 MB (peak)",
      measured: `${thousand.routerPeakRssMiB} MiB`,
      pass: thousand.routerPeakRssMiB * 1.048576 <= 200,
    });
  }
  if (m.edge) {
    verdicts.push({
      target: `edge ≥ 4,000 req/s at ${m.edge.connections} connections (REST)`,
      measured: `${m.edge.restRequestsPerSecond} req/s (${m.edge.restLoadGenerator})${m.edge.errors ? `, ${m.edge.errors} errors` : ""}`,
      pass: m.edge.restRequestsPerSecond >= 4000 && m.edge.errors === 0,
    });
  }
  return verdicts;
}
