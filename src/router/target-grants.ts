import { GRANT_CLAIMS, targetGrantAllows, type TargetGrant } from "../auth/index.js";
import { GrpcStatus, MeshError } from "../errors/index.js";
import type { HostLink } from "./host-link.js";
import { describeTarget, type Target } from "./target.js";

/** How many hosts outside the grant a refusal names; the rest are counted. */
const NAMED_OUTSIDE_HOSTS = 3;

/**
 * Holds the agents a target resolved to against the caller's target grant (none: all allowed).
 * A hostname, `_all` or label target is refused whole (PERMISSION_DENIED) when any of its hosts
 * is outside the grant, never silently narrowed: the caller asked for those hosts, and running
 * on some of them would look like success. `_any` means "any one host I may use", so it is
 * narrowed to the allowed candidates, and refused only when none is left.
 */
export function authorizeTarget(grant: TargetGrant | undefined, target: Target, sessions: HostLink[]): HostLink[] {
  if (!grant) return sessions;
  const allowed = (host: HostLink) => targetGrantAllows(grant, host.hostname, host.labels);
  if (target.kind === "any") {
    const candidates = sessions.filter(allowed);
    if (candidates.length === 0) {
      throw targetNotAllowed(`none of the ${sessions.length} connected agents is inside the token's "${GRANT_CLAIMS.targets}" claim`);
    }
    return candidates;
  }
  const outside = sessions.filter((session) => !allowed(session));
  if (outside.length === 0) return sessions;
  const named = outside
    .slice(0, NAMED_OUTSIDE_HOSTS)
    .map((s) => s.hostname)
    .join(", ");
  const more = outside.length > NAMED_OUTSIDE_HOSTS ? ` and ${outside.length - NAMED_OUTSIDE_HOSTS} more` : "";
  throw targetNotAllowed(`target "${describeTarget(target)}" reaches ${named}${more}, outside the token's "${GRANT_CLAIMS.targets}" claim; nothing ran`);
}

function targetNotAllowed(details: string): MeshError {
  return new MeshError(GrpcStatus.PERMISSION_DENIED, "target not allowed", details);
}
