import { errors, jwtVerify, type JWTPayload } from "jose";
import { MeshError, GrpcStatus } from "../errors/index.js";
import type { VerificationKey } from "./token-keys.js";

/** Who is calling, once their token checks out. */
export interface Principal {
  subject: string;
  scopes: ReadonlySet<string>;
}

export interface TokenVerifier {
  /** Verifies `Authorization: Bearer …` and that it grants `scope`; throws UNAUTHENTICATED or PERMISSION_DENIED. */
  verify(authorization: string | undefined, scope: string): Promise<Principal>;
}

const CLOCK_SKEW_SECONDS = 30;

export function createTokenVerifier(key: VerificationKey, claims: { issuer?: string; audience?: string } = {}): TokenVerifier {
  return {
    async verify(authorization, scope) {
      const token = bearerTokenOf(authorization);
      let payload: JWTPayload;
      try {
        // The overloads of jwtVerify split on the key's kind; both accept the same options.
        ({ payload } = await jwtVerify(token, key.key as Uint8Array, {
          algorithms: key.algorithms,
          clockTolerance: CLOCK_SKEW_SECONDS,
          // A token without exp would never lapse; every token meshexec mints has one.
          requiredClaims: ["exp"],
          issuer: claims.issuer,
          audience: claims.audience,
        }));
      } catch (err) {
        throw unauthenticated(describeJoseError(err));
      }
      const principal = { subject: payload.sub ?? "", scopes: scopesOf(payload) };
      if (!principal.scopes.has(scope)) {
        throw new MeshError(GrpcStatus.PERMISSION_DENIED, "missing scope", `this call needs the scope "${scope}"`);
      }
      return principal;
    },
  };
}

function bearerTokenOf(authorization: string | undefined): string {
  if (!authorization) throw unauthenticated("no Authorization header; send Authorization: Bearer <token>");
  const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
  if (!match) throw unauthenticated("the Authorization header must be \"Bearer <token>\"");
  return match[1];
}

/** Scopes come from `scope` (space separated, OAuth 2) or from `permissions` (an array). */
function scopesOf(payload: JWTPayload): Set<string> {
  const scopes = new Set<string>();
  if (typeof payload.scope === "string") payload.scope.split(/\s+/).filter(Boolean).forEach((s) => scopes.add(s));
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
