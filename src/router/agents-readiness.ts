import { setTimeout as delay } from "node:timers/promises";

export interface ReadinessConfig {
  /** Agents that must be connected at once before the router first reports ready (--ready-min-agents, at least 1). */
  minAgents: number;
  /** How long after the router starts listening it waits before it first reports ready (--ready-settle). */
  settleMs: number;
}

export const DEFAULT_READINESS: ReadinessConfig = { minAgents: 1, settleMs: 0 };

/**
 * Whether the router is ready for execs, as its health service `meshexec.agents` says and the
 * edge's GET /ready reads. At start it waits for what the operator configured: --ready-min-agents
 * connected at once, and --ready-settle since it started, so that the first `role:web` exec
 * reaches every web agent, not just the first to reconnect. Once reached, at least one agent is
 * enough: losing one of ten agents later must not take every edge out of its load balancer.
 */
export class AgentsReadiness {
  private settled: boolean;
  private reached = false;
  private agents = 0;
  private draining = false;
  private readonly stopSettling = new AbortController();

  constructor(
    private readonly config: ReadinessConfig,
    private readonly onChange: (ready: boolean) => void,
  ) {
    this.settled = config.settleMs <= 0;
    if (!this.settled) {
      delay(config.settleMs, undefined, { signal: this.stopSettling.signal, ref: false }).then(
        () => {
          this.settled = true;
          this.report();
        },
        () => {},
      );
    }
    this.report();
  }

  agentsConnected(agents: number): void {
    this.agents = agents;
    this.report();
  }

  drain(): void {
    this.draining = true;
    this.stopSettling.abort();
    this.report();
  }

  private report(): void {
    if (this.settled && this.agents >= this.config.minAgents) this.reached = true;
    this.onChange(!this.draining && this.reached && this.agents > 0);
  }
}
