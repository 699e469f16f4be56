/**
 * grpc-js shares one connection among channels to the same address with the same options, and
 * an agent's channel options are fixed, so 1,000 agents in one process would share a single
 * connection. Each agent dials its own loopback address instead (all of 127/8 is local on
 * Linux), so the router holds one connection per agent, as it would in a real fleet.
 */
export function noopAgentAddress(index: number): string {
  return `127.1.${Math.floor(index / 200)}.${1 + (index % 200)}`;
}

export function noopAgentHostname(index: number): string {
  return `noop-${String(index).padStart(4, "0")}`;
}
