import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { AgentExecReply } from "../src/gen/meshexec/v1/agent.js";

export interface AgentState {
  inFlight(): number;
  connected(): boolean;
}

/** What one node's agent did: execs by outcome, their durations, its load and its link. */
export class AgentMetrics {
  private readonly execs: Counter<"outcome">;
  private readonly duration: Histogram<"outcome">;

  constructor(registry: Registry, state: AgentState) {
    this.execs = new Counter({
      name: "meshexec_agent_execs_total",
      help: "Execs this agent answered, by outcome.",
      labelNames: ["outcome"],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: "meshexec_agent_exec_duration_seconds",
      help: "Time from an exec request to its reply, by outcome.",
      labelNames: ["outcome"],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
      registers: [registry],
    });
    new Gauge({
      name: "meshexec_agent_in_flight",
      help: "Execs running or queued on this agent.",
      registers: [registry],
      collect() {
        this.set(state.inFlight());
      },
    });
    new Gauge({
      name: "meshexec_agent_router_connected",
      help: "1 while the agent's stream to the router is up.",
      registers: [registry],
      collect() {
        this.set(state.connected() ? 1 : 0);
      },
    });
  }

  observeReply(reply: AgentExecReply, seconds: number): void {
    const outcome = outcomeOf(reply);
    this.execs.inc({ outcome });
    this.duration.observe({ outcome }, seconds);
  }
}

function outcomeOf(reply: AgentExecReply): string {
  if (reply.outcome?.$case === "completed") return reply.outcome.value.timedOut ? "timeout" : "ok";
  return "failed";
}
