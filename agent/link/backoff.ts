/** gRPC's connection-backoff values (doc/connection-backoff.md): 1 s, ×1.6, at most 120 s, ±20 % jitter. */
export const grpcConnectionBackoff = { initialMs: 1_000, multiplier: 1.6, maxMs: 120_000, jitter: 0.2 } as const;

export type BackoffPolicy = typeof grpcConnectionBackoff;

/** The delay before reconnect attempt `attempt` (0 = the first retry). `random` is injectable for tests. */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy = grpcConnectionBackoff, random = Math.random): number {
  const base = Math.min(policy.initialMs * policy.multiplier ** attempt, policy.maxMs);
  return Math.round(base * (1 + policy.jitter * (2 * random() - 1)));
}
