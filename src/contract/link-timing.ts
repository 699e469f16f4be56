/**
 * How often an agent sends a heartbeat and the router answers it (router --heartbeat-interval; the
 * router tells each agent in its welcome). The router drops an agent silent for three of these.
 */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 5_000;

/** gRPC keepalive ping interval of the router and the agents (--keepalive): a dead peer is noticed within about twice this. */
export const DEFAULT_KEEPALIVE_MS = 10_000;
