import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { HostResult } from "../gen/meshexec/v1/exec.js";

/** The mesh's own figures, as the router sees them. */
export class RouterMetrics {
  readonly agentsConnected: Gauge;
  private readonly execs: Counter<"status">;
  private readonly execDuration: Histogram<"status">;
  private readonly fanoutHosts: Histogram;

  constructor(registry: Registry) {
    this.agentsConnected = new Gauge({ name: "meshexec_agents_connected", help: "Agents with a live stream to this router.", registers: [registry] });
    this.execs = new Counter({ name: "meshexec_exec_total", help: "Per-host exec results, by status.", labelNames: ["status"], registers: [registry] });
    this.execDuration = new Histogram({
      name: "meshexec_exec_duration_seconds",
      help: "Per-host exec duration, by status.",
      labelNames: ["status"],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
      registers: [registry],
    });
    this.fanoutHosts = new Histogram({
      name: "meshexec_fanout_hosts",
      help: "Hosts one exec request ran on.",
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
      registers: [registry],
    });
  }

  observeExec(results: HostResult[]): void {
    this.fanoutHosts.observe(results.length);
    // One counter increment per status, not per host: prom-client builds a label key on every call.
    const counts = new Map<string, number>();
    for (const { status, durationMs } of results) {
      counts.set(status, (counts.get(status) ?? 0) + 1);
      this.execDuration.observe({ status }, durationMs / 1000);
    }
    counts.forEach((count, status) => this.execs.inc({ status }, count));
  }
}
