import { Registry, collectDefaultMetrics } from "prom-client";

export type { Registry };

/** One registry per process, with Node's process metrics; `meshexec dev` shares it between its three parts. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
