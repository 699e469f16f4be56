import { errors, jwtVerify, type JWTPayload } from "jose";
import { MeshError, GrpcStatus } from "../errors/index.js";
import { TOKEN_ID_RULE, isTokenId } from "./token-id.js";
import { lifetimeProblemOf } from "./token-lifetime.js";
import type { VerificationKey } from "./token-keys.js";

/** Who is calling, once their token checks out. */
export interface Principal {
  subject: string;
  scopes: ReadonlySet<string>;
  /** The verified token's whole payload, for the claims a caller of verify() reads itself. */
  claims: Readonly<JWTPayload>;
}

export interface TokenVerifier {
  /** Verifies `Authorization: Bearer …` and that it grants `scope`; throws UNAUTHENTICATED or PERMISSION_DENIED. */
  /** `scope`: the scope the call needs, or several of which any one will do. */
  verify(authorization: string | undefined, scope: string | readonly string[]): Promise<Principal>;
}

const CLOCK_SKEW_SECONDS = 30;
const MAX_CACHED_TOKENS = 10_000;

interface VerifiedToken {
  principal: Principal;
  /** When the token's nbf and exp, skew included, allow it; outside that it is verified afresh (and refused). */
  validFromMs: number;
  validUntilMs: number;
}

export interface VerifierOptions {
  issuer?: string;
  audience?: string;
  /** The longest a token may live, from its iat (or nbf) to its exp; a token asking for more is refused. */
  maxLifetimeMs: number;
  /** Revoked jtis, asked on every call, cached token or not. The edge has none: the router's answer is the one that counts. */
  revocations?: { isRevoked(jti: string): Promise<boolean> };
  /** The clock, for tests. */
  now?: () => number;
}

export function createTokenVerifier(key: VerificationKey, options: VerifierOptions): TokenVerifier {
  const clock = options.now ?? Date.now;
  // Callers present the same token for its whole life; checking its signature once is enough.
  // The cache holds only tokens that verified, and only for as long as their own claims allow.
  const verified = new Map<string, VerifiedToken>();

  async function principalOf(token: string): Promise<Principal> {
    const cached = verified.get(token);
    const now = clock();
    if (cached && now >= cached.validFromMs && now <= cached.validUntilMs) return await refuseIfRevoked(cached.principal);
    verified.delete(token);
    let payload: JWTPayload;
    try {
      // The overloads of jwtVerify split on the key's kind; both accept the same options.
      ({ payload } = await jwtVerify(token, key.key as Uint8Array, {
        algorithms: key.algorithms,
        clockTolerance: CLOCK_SKEW_SECONDS,
        // A token without exp would never lapse, and one without sub could not be told from an
        // unauthenticated caller in the audit log; every token meshexec mints has both.
        requiredClaims: ["exp", "sub"],
        issuer: options.issuer,
        audience: options.audience,
        currentDate: new Date(now),
      }));
    } catch (err) {
      throw unauthenticated(describeJoseError(err));
    }
    if (typeof payload.sub !== "string" || payload.sub.trim() === "") throw unauthenticated('the token\'s "sub" claim is empty');
    if (payload.jti !== undefined && !isTokenId(payload.jti)) throw unauthenticated(`the token's "jti" claim must be ${TOKEN_ID_RULE}`);
    const lifetimeProblem = lifetimeProblemOf(payload, options.maxLifetimeMs, now, CLOCK_SKEW_SECONDS);
    if (lifetimeProblem) throw unauthenticated(lifetimeProblem);
    const principal = await refuseIfRevoked({ subject: payload.sub, scopes: scopesOf(payload), claims: payload });
    if (verified.size >= MAX_CACHED_TOKENS) verified.delete(verified.keys().next().value!);
    verified.set(token, {
      principal,
      validFromMs: ((payload.nbf ?? 0) - CLOCK_SKEW_SECONDS) * 1000,
      validUntilMs: (payload.exp! + CLOCK_SKEW_SECONDS) * 1000,
    });
    return principal;
  }

  async function refuseIfRevoked(principal: Principal): Promise<Principal> {
    const { jti } = principal.claims;
    if (jti !== undefined && options.revocations && (await options.revocations.isRevoked(jti))) throw unauthenticated("the token has been revoked");
    return principal;
  }

  return {
    async verify(authorization, scope) {
      const principal = await principalOf(bearerTokenOf(authorization));
      const anyOf: readonly string[] = typeof scope === "string" ? [scope] : scope;
      if (!anyOf.some((s) => principal.scopes.has(s))) {
        throw new MeshError(GrpcStatus.PERMISSION_DENIED, "missing scope", `this call needs the scope ${anyOf.map((s) => `"${s}"`).join(" or ")}`);
      }
      return principal;
    },
  };
}

function bearerTokenOf(authorization: string | undefined): string {
  if (!authorization) throw unauthenticated("no Authorization header; send Authorization: Bearer <token>");
  const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
  if (!match) throw unauthenticated('the Authorization header must be "Bearer <token>"');
  return match[1];
}

/** Scopes come from `scope` (space separated, OAuth 2) or from `permissions` (an array). */
function scopesOf(payload: JWTPayload): Set<string> {
  const scopes = new Set<string>();
  if (typeof payload.scope === "string")
    payload.scope
      .split(/\s+/)
      .filter(Boolean)
      .forEach((s) => scopes.add(s));
  if (Array.isArray(payload.permissions)) payload.permissions.filter((p) => typeof p === "string").forEach((p) => scopes.add(p));
  return scopes;
}

function describeJoseError(err: unknown): string {
  if (err instanceof errors.JWTExpired) return "the token has expired";
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === "missing") return `the token has no "${err.claim}" claim`;
    if (err.claim === "nbf") return "the token is not yet valid";
    return `the token's "${err.claim}" claim is not accepted`;
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return "the token's algorithm is not accepted";
  if (err instanceof errors.JWSSignatureVerificationFailed) return "the token's signature does not verify";
  if (err instanceof errors.JWKSNoMatchingKey) return "no configured key matches the token";
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return "the token is malformed";
  return "the token could not be verified";
}

function unauthenticated(details: string): MeshError {
  return new MeshError(GrpcStatus.UNAUTHENTICATED, "unauthenticated", details);
}
