import type { Metadata } from "@grpc/grpc-js";
import type { PeerCertificate } from "node:tls";
import { AGENT_CONNECT_SCOPE, agentGrantOf, joinTokenMatches, type TokenVerifier } from "../auth/index.js";
import { MeshError, GrpcStatus, quoteForMessage } from "../errors/index.js";
import type { AgentRevocations } from "../store/index.js";

/**
 * What an agent proved on Connect, before its hello: which hostnames and labels it may claim.
 * `any` only for the insecure shared join token.
 */
export interface AgentCredential {
  kind: "token" | "certificate" | "join token";
  hostnames: readonly string[] | "any";
  labels: Readonly<Record<string, string>> | "any";
  /** A token's iat or a certificate's notBefore: a revocation of the hostname refuses credentials issued at or before it. */
  issuedAt?: Date;
}

export interface AgentAuthenticationOptions {
  verifier: TokenVerifier;
  revocations: AgentRevocations;
  /** The shared join token, accepted only behind --insecure-join-token (and inside `meshexec dev`'s tests). */
  insecureJoinToken?: string;
  /** Set when the router requires client certificates: only then is a peer certificate proof of anything. */
  trustClientCertificates: boolean;
}

/** URI SANs of this form give a certificate identity its labels, e.g. urn:meshexec:label:role=web. */
export const CERTIFICATE_LABEL_PREFIX = "urn:meshexec:label:";

/**
 * Who the agent is, from its Connect call: a per-agent token (scope agent:connect) when it sends
 * one, else its client certificate's DNS SANs. Throws UNAUTHENTICATED or PERMISSION_DENIED.
 */
export async function authenticateAgent(
  options: AgentAuthenticationOptions,
  call: { metadata: Metadata; peerCertificate?: PeerCertificate },
): Promise<AgentCredential> {
  const authorization = call.metadata.get("authorization")[0];
  if (typeof authorization === "string") {
    const joinToken = options.insecureJoinToken;
    if (joinToken !== undefined && joinTokenMatches(joinToken, authorization.replace(/^Bearer\s+/i, ""))) {
      return { kind: "join token", hostnames: "any", labels: "any" };
    }
    const principal = await options.verifier.verify(authorization, AGENT_CONNECT_SCOPE);
    const grant = agentGrantOf(principal);
    const iat = principal.claims.iat;
    return { kind: "token", hostnames: [grant.hostname], labels: grant.labels, issuedAt: iat === undefined ? undefined : new Date(iat * 1000) };
  }
  const certificate = options.trustClientCertificates ? call.peerCertificate : undefined;
  if (certificate && Object.keys(certificate).length > 0) return certificateCredentialOf(certificate);
  throw new MeshError(
    GrpcStatus.UNAUTHENTICATED,
    "unauthenticated",
    "an agent presents its own token (meshexec token --agent HOSTNAME, given as --agent-token), or a client certificate naming its hostname where the router requires them",
  );
}

/** A certificate may claim any of its DNS SANs, with the labels its URI SANs name. */
export function certificateCredentialOf(certificate: Pick<PeerCertificate, "subjectaltname" | "valid_from">): AgentCredential {
  const names = (certificate.subjectaltname ?? "").split(", ");
  const hostnames = names.filter((name) => name.startsWith("DNS:")).map((name) => name.slice("DNS:".length));
  if (hostnames.length === 0) {
    throw new MeshError(GrpcStatus.PERMISSION_DENIED, "no agent identity", "the client certificate names no hostname (DNS SAN) and no agent token was sent");
  }
  const labelEntries = names
    .filter((name) => name.startsWith(`URI:${CERTIFICATE_LABEL_PREFIX}`))
    .map((name) => name.slice(`URI:${CERTIFICATE_LABEL_PREFIX}`.length).split("="))
    .filter((parts) => parts.length === 2);
  return { kind: "certificate", hostnames, labels: Object.fromEntries(labelEntries), issuedAt: new Date(certificate.valid_from) };
}

/** What a refused hello asked for against what its credential allows, for the router's warn line. */
export interface HelloRefusal {
  asked: string;
  allowed: string;
}

/**
 * Throws PERMISSION_DENIED when the hello claims a hostname its credential does not name, a
 * label it does not allow (labels must be a subset of the allowed ones, same values), or when
 * the hostname was revoked after the credential was issued.
 */
export async function authorizeHello(
  credential: AgentCredential,
  hello: { hostname: string; labels: Readonly<Record<string, string>> },
  revocations: AgentRevocations,
): Promise<void> {
  const { hostnames, labels } = credential;
  if (hostnames !== "any" && !hostnames.includes(hello.hostname)) {
    throw refusal(
      "hostname not allowed",
      `this agent's ${credential.kind} is for ${hostnames.map(quoteForMessage).join(", ")}, not ${quoteForMessage(hello.hostname)}`,
      { asked: hello.hostname, allowed: hostnames.join(",") },
    );
  }
  if (labels !== "any") {
    const extra = Object.entries(hello.labels).find(([key, value]) => labels[key] !== value);
    if (extra) {
      const allowed = Object.entries(labels)
        .map(([key, value]) => `${key}=${value}`)
        .join(",");
      throw refusal(
        "label not allowed",
        `this agent's ${credential.kind} does not allow the label ${quoteForMessage(`${extra[0]}=${extra[1]}`)}; it allows ${allowed ? quoteForMessage(allowed) : "none"}`,
        { asked: `${extra[0]}=${extra[1]}`, allowed },
      );
    }
  }
  const revokedAt = await revocations.revokedAt(hello.hostname);
  if (revokedAt && (credential.issuedAt === undefined || credential.issuedAt.getTime() <= revokedAt.getTime())) {
    throw refusal(
      "agent revoked",
      `${quoteForMessage(hello.hostname)} was revoked at ${revokedAt.toISOString()}; its credentials issued until then are refused, so mint a new one`,
      { asked: hello.hostname, allowed: `credentials issued after ${revokedAt.toISOString()}` },
    );
  }
}

/** A PERMISSION_DENIED that also carries, cut short, what was asked and allowed, for the log. */
export class HelloRefused extends MeshError {
  constructor(
    error: string,
    details: string,
    readonly refusal: HelloRefusal,
  ) {
    super(GrpcStatus.PERMISSION_DENIED, error, details);
  }
}

function refusal(error: string, details: string, what: HelloRefusal): HelloRefused {
  const cut = (value: string) => (value.length > 200 ? `${value.slice(0, 200)}…` : value);
  return new HelloRefused(error, details, { asked: cut(what.asked), allowed: cut(what.allowed) });
}
