import { randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import type { SigningKey } from "./token-keys.js";

export interface TokenClaims {
  subject: string;
  scopes: readonly string[];
  ttlMs: number;
  /** The token's id, by which it can be revoked; a random UUID when unset. */
  jti?: string;
  issuer?: string;
  audience?: string;
  /** Claims of meshexec's own beyond the registered ones (an agent's identity, a caller's grants). */
  extraClaims?: Record<string, unknown>;
}

export async function mintToken(key: SigningKey, claims: TokenClaims): Promise<string> {
  const jwt = new SignJWT({ ...claims.extraClaims, scope: claims.scopes.join(" ") })
    .setProtectedHeader({ alg: key.algorithm, typ: "JWT" })
    .setSubject(claims.subject)
    .setJti(claims.jti ?? randomUUID())
    .setIssuedAt()
    .setExpirationTime(Math.floor((Date.now() + claims.ttlMs) / 1000));
  if (claims.issuer) jwt.setIssuer(claims.issuer);
  if (claims.audience) jwt.setAudience(claims.audience);
  return jwt.sign(key.key);
}
