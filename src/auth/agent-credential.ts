import { MeshError, GrpcStatus } from "../errors/index.js";
import { mintToken } from "./mint-token.js";
import { AGENT_CONNECT_SCOPE } from "./scopes.js";
import type { SigningKey } from "./token-keys.js";
import type { Principal } from "./verify-token.js";

/** The claim of a per-agent token: the one hostname it may register as and the labels it may carry. */
export const AGENT_CLAIM = "meshexec_agent";

/** What an agent's credential lets it claim in its hello. */
export interface AgentGrant {
  hostname: string;
  labels: Readonly<Record<string, string>>;
}

export interface AgentTokenClaims extends AgentGrant {
  ttlMs: number;
  jti?: string;
  issuer?: string;
  audience?: string;
}

/** The subject of an agent's token: never a caller's, so the audit log tells them apart. */
export function agentSubjectOf(hostname: string): string {
  return `agent:${hostname}`;
}

/** A JWT with sub agent:<hostname>, only the scope agent:connect, and the grant in its own claim. */
export function mintAgentToken(key: SigningKey, claims: AgentTokenClaims): Promise<string> {
  const { hostname, labels, ...rest } = claims;
  return mintToken(key, {
    ...rest,
    subject: agentSubjectOf(hostname),
    scopes: [AGENT_CONNECT_SCOPE],
    extraClaims: { [AGENT_CLAIM]: { hostname, labels } },
  });
}

/**
 * The grant of a verified agent token. A token that verified but carries no well-formed grant,
 * or whose sub is not agent:<its hostname>, was not minted for an agent: PERMISSION_DENIED.
 */
export function agentGrantOf(principal: Principal): AgentGrant {
  const claim = principal.claims[AGENT_CLAIM] as { hostname?: unknown; labels?: unknown } | undefined;
  const hostname = claim?.hostname;
  const labels = claim?.labels;
  const labelsOk = typeof labels === "object" && labels !== null && !Array.isArray(labels) && Object.values(labels).every((value) => typeof value === "string");
  if (typeof hostname !== "string" || !labelsOk || principal.subject !== agentSubjectOf(hostname)) {
    throw new MeshError(
      GrpcStatus.PERMISSION_DENIED,
      "not an agent token",
      `the token has no valid "${AGENT_CLAIM}" claim matching its sub; mint one with meshexec token --agent HOSTNAME`,
    );
  }
  return { hostname, labels: labels as Record<string, string> };
}
