import type { JWTPayload } from "jose";
import { execLimits, matchesAnyGlob } from "../contract/index.js";
import { GrpcStatus, MeshError, invalidArgument, quoteForMessage } from "../errors/index.js";

/**
 * The optional claims that narrow where a token's subject may exec. A token without one is not
 * restricted in that way; with it, only what it lists is allowed:
 * - `meshexec_targets`: hostname globs (`web-*`) and `key:value` labels (exact); a host is
 *   allowed when its hostname matches a glob or it carries one of the labels.
 * - `meshexec_containers`: globs the container's real name on the node must match.
 * Globs are src/contract/glob.ts's: `*` and `?`, anchored.
 */
export const GRANT_CLAIMS = { targets: "meshexec_targets", containers: "meshexec_containers" } as const;

/** Bounds on a grant claim, so one token cannot make every exec's check expensive. */
export const grantLimits = {
  maxPatterns: 32,
  /** A hostname's own limit (RFC 1123), for label entries too. */
  targetPatternMaxLength: 253,
  containerPatternMaxLength: execLimits.containerIdMaxLength,
} as const;

export interface TargetGrant {
  hostnameGlobs: readonly string[];
  labels: ReadonlyArray<{ key: string; value: string }>;
}

/** What a token allows beyond its scopes; an absent field allows everything of its kind. */
export interface ExecGrants {
  targets?: TargetGrant;
  containers?: string[];
}

const HOSTNAME_GLOB = /^[A-Za-z0-9.*?-]+$/;
const CONTAINER_GLOB = /^[A-Za-z0-9_.*?-]+$/;

type Fail = (details: string) => never;

/** Reads a verified token's grant claims; a malformed one makes the token unusable (UNAUTHENTICATED). */
export function execGrantsOf(claims: Readonly<JWTPayload>): ExecGrants {
  const fail: Fail = (details) => {
    throw new MeshError(GrpcStatus.UNAUTHENTICATED, "malformed token claim", details);
  };
  const targets = claims[GRANT_CLAIMS.targets];
  const containers = claims[GRANT_CLAIMS.containers];
  return {
    targets: targets === undefined ? undefined : targetGrantOf(patternsOf(GRANT_CLAIMS.targets, targets, fail), fail),
    containers: containers === undefined ? undefined : containerGlobsOf(patternsOf(GRANT_CLAIMS.containers, containers, fail), fail),
  };
}

/** The claims `meshexec token --target … --container …` puts in a token, checked as the router will read them. */
export function grantClaimsOf(targets: readonly string[], containers: readonly string[]): Record<string, string[]> {
  const fail: Fail = (details) => {
    throw invalidArgument("invalid grant", details);
  };
  const claims: Record<string, string[]> = {};
  if (targets.length > 0) {
    targetGrantOf(patternsOf(GRANT_CLAIMS.targets, targets, fail), fail);
    claims[GRANT_CLAIMS.targets] = [...targets];
  }
  if (containers.length > 0) claims[GRANT_CLAIMS.containers] = [...containerGlobsOf(patternsOf(GRANT_CLAIMS.containers, containers, fail), fail)];
  return claims;
}

/** Whether a host is inside a target grant: its hostname matches a glob, or it carries a granted label. */
export function targetGrantAllows(grant: TargetGrant, hostname: string, labels: Readonly<Record<string, string>>): boolean {
  return matchesAnyGlob(grant.hostnameGlobs, hostname) || grant.labels.some(({ key, value }) => Object.hasOwn(labels, key) && labels[key] === value);
}

/**
 * An array of 1 to maxPatterns strings. An empty array is refused rather than read as "nothing"
 * or "everything": neither is what a caller who minted it could have meant, and the agent reads
 * an empty container list as unrestricted.
 */
function patternsOf(claim: string, value: unknown, fail: Fail): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > grantLimits.maxPatterns || !value.every((v) => typeof v === "string")) {
    fail(`the token's "${claim}" claim must be an array of 1 to ${grantLimits.maxPatterns} strings`);
  }
  return value as string[];
}

function targetGrantOf(entries: string[], fail: Fail): TargetGrant {
  const hostnameGlobs: string[] = [];
  const labels: Array<{ key: string; value: string }> = [];
  entries.forEach((entry, i) => {
    const parts = entry.length <= grantLimits.targetPatternMaxLength ? entry.split(":") : [];
    if (parts.length === 2 && parts.every((part) => execLimits.labelPartPattern.test(part))) labels.push({ key: parts[0], value: parts[1] });
    else if (parts.length === 1 && HOSTNAME_GLOB.test(entry)) hostnameGlobs.push(entry);
    else {
      fail(
        `${GRANT_CLAIMS.targets}[${i}] ${quoteForMessage(entry)} must be at most ${grantLimits.targetPatternMaxLength} characters: ` +
          `a hostname glob ([A-Za-z0-9.-] with * and ?) or key:value (each side ${execLimits.labelPartPattern.source})`,
      );
    }
  });
  return { hostnameGlobs, labels };
}

function containerGlobsOf(entries: string[], fail: Fail): string[] {
  entries.forEach((entry, i) => {
    if (entry.length > grantLimits.containerPatternMaxLength || !CONTAINER_GLOB.test(entry)) {
      fail(
        `${GRANT_CLAIMS.containers}[${i}] ${quoteForMessage(entry)} must be a container name glob ` +
          `([A-Za-z0-9_.-] with * and ?, at most ${grantLimits.containerPatternMaxLength} characters)`,
      );
    }
  });
  return entries;
}
