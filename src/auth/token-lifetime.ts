import type { JWTPayload } from "jose";
import { invalidArgument } from "../errors/index.js";

/**
 * The longest a caller token may live, unless --max-token-ttl says otherwise. Long enough for
 * the service tokens of CI jobs and schedulers, rotated monthly; short enough that a token
 * nobody revoked still lapses on its own. Tokens for people should be far shorter (the default
 * --ttl of meshexec token is 1h).
 */
export const DEFAULT_MAX_TOKEN_TTL = "30d";

/**
 * Why a verified token lives too long for `maxLifetimeMs`, or undefined when it does not. Its
 * life is measured from iat, or from nbf when it has no iat; a token with neither cannot be
 * measured and is refused. What is left of its life counts too, so a future iat gains nothing.
 */
export function lifetimeProblemOf(payload: JWTPayload, maxLifetimeMs: number, nowMs: number, skewSeconds: number): string | undefined {
  const issuedAt = payload.iat ?? payload.nbf;
  if (issuedAt === undefined) return 'the token has no "iat" claim (nor "nbf"), so its lifetime cannot be checked';
  const lifetimeMs = (payload.exp! - issuedAt) * 1000;
  const remainingMs = payload.exp! * 1000 - nowMs - skewSeconds * 1000;
  const longestMs = Math.max(lifetimeMs, remainingMs);
  if (longestMs <= maxLifetimeMs) return undefined;
  return `the token lives ${describeSpan(longestMs)}, longer than the ${describeSpan(maxLifetimeMs)} the mesh allows (--max-token-ttl)`;
}

/** At mint time: the same limit, so that meshexec token never prints a token the mesh would refuse. */
export function checkMintTtl(ttlMs: number, maxLifetimeMs: number): void {
  if (!(ttlMs > 0)) throw invalidArgument("invalid --ttl", "the token must live longer than 0 s");
  if (ttlMs > maxLifetimeMs) {
    throw invalidArgument("invalid --ttl", `a token may live at most ${describeSpan(maxLifetimeMs)} (--max-token-ttl), got ${describeSpan(ttlMs)}`);
  }
}

/** "30 d", "1.5 d", "90 s": in the largest unit it reaches, to one decimal at most. */
function describeSpan(ms: number): string {
  const units: Array<[string, number]> = [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ];
  const [unit, size] = units.find(([, size]) => ms >= size) ?? units[units.length - 1];
  const value = ms / size;
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${unit}`;
}
