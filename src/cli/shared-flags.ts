import { createTokenVerifier, loadVerificationKey, type TokenKeyConfig, type TokenVerifier } from "../auth/index.js";
import type { FlagValues } from "../config/index.js";

/** Where tokens are checked (router, edge) and minted (token, dev), the keys are configured the same way. */
export const jwtFlags = {
  "jwt-secret": { type: "string", description: "HS256 shared secret for caller tokens" },
  "jwt-public-key": { type: "string", description: "PEM public key file for RS256/ES256 caller tokens (instead of a secret)" },
  "jwt-jwks": { type: "string", description: "JWKS file for RS256/ES256 caller tokens (instead of a secret)" },
  "jwt-issuer": { type: "string", description: "when set, tokens must carry this iss" },
  "jwt-audience": { type: "string", description: "when set, tokens must carry this aud" },
} as const;

export function tokenKeyConfigOf(flags: FlagValues<typeof jwtFlags>): TokenKeyConfig {
  return {
    secret: flags["jwt-secret"],
    publicKeyFile: flags["jwt-public-key"],
    jwksFile: flags["jwt-jwks"],
    issuer: flags["jwt-issuer"],
    audience: flags["jwt-audience"],
  };
}

export function verifierOf(flags: FlagValues<typeof jwtFlags>): TokenVerifier {
  const config = tokenKeyConfigOf(flags);
  return createTokenVerifier(loadVerificationKey(config), { issuer: config.issuer, audience: config.audience });
}

export const drainFlag = {
  "drain-timeout": { type: "string", default: "30s", description: "on SIGTERM, how long in-flight execs may take to finish" },
} as const;

export const keepaliveFlag = {
  keepalive: { type: "string", default: "10s", description: "gRPC keepalive ping interval; a dead peer is noticed within about twice this" },
} as const;

export const storeFlags = {
  "data-dir": { type: "string", default: "./data", description: "where the job store and audit log (one SQLite file) live" },
  "job-ttl": { type: "string", default: "7d", description: "finished jobs older than this are pruned" },
} as const;
