import { checkFlags, formatDuration, parseDuration, parsePositiveInt, type FlagValues } from "../config/index.js";
import { DEFAULT_READINESS, type ReadinessConfig } from "../router/index.js";

/**
 * What the router waits for before its health service `meshexec.agents` says SERVING, which is
 * what every edge's GET /ready reads: the router owns it because it alone knows the agents, so all
 * edges and any gRPC health checker agree.
 */
export const readinessFlags = {
  "ready-min-agents": {
    type: "string",
    default: String(DEFAULT_READINESS.minAgents),
    description: "agents that must be connected at once before the router first reports ready (the edge's GET /ready); after that, one is enough",
  },
  "ready-settle": {
    type: "string",
    default: formatDuration(DEFAULT_READINESS.settleMs),
    description: "how long after it starts the router waits before it first reports ready, so agents reconnecting after a restart are all back",
  },
} as const;

export function readinessOf(flags: FlagValues<typeof readinessFlags>): ReadinessConfig {
  return checkFlags({
    minAgents: () => parsePositiveInt("ready-min-agents", flags["ready-min-agents"]),
    settleMs: () => parseDuration("ready-settle", flags["ready-settle"]),
  });
}
