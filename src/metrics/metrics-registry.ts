import { Registry, collectDefaultMetrics } from "prom-client";

export type { Registry };

/** One registry per process, with Node's process metrics; `meshexec dev` shares it between its three parts. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  // prom-client samples event-loop lag every 10 ms by default: a wake-up 100 times a second,
  // ~4 ms of CPU a second per idle process here. Every 100 ms still gives a scrape 150 samples.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  return registry;
}
