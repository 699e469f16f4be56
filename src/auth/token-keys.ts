import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import { GrpcStatus, MeshError, invalidArgument } from "../errors/index.js";

/** Where verification keys come from: exactly one of a shared secret, a PEM public key or a JWKS file. */
export interface TokenKeyConfig {
  /** HS256 shared secret (MESHEXEC_JWT_SECRET). */
  secret?: string;
  /** PEM public key file, RS256 or ES256 by its type. */
  publicKeyFile?: string;
  /** JWKS file (a JSON {"keys": [...]}) for RS256/ES256. */
  jwksFile?: string;
  /** PEM private key file, for minting RS256/ES256 tokens. */
  privateKeyFile?: string;
  issuer?: string;
  audience?: string;
}

export interface VerificationKey {
  key: Uint8Array | KeyObject | JWTVerifyGetKey;
  algorithms: string[];
}

export function loadVerificationKey(config: TokenKeyConfig): VerificationKey {
  const sources = [config.secret, config.publicKeyFile, config.jwksFile].filter(Boolean);
  if (sources.length !== 1) {
    throw invalidArgument("invalid token keys", "configure exactly one of --jwt-secret, --jwt-public-key or --jwt-jwks");
  }
  if (config.secret) return { key: secretKeyOf(config.secret), algorithms: ["HS256"] };
  if (config.publicKeyFile) {
    const key = keyFile("jwt-public-key", config.publicKeyFile, createPublicKey);
    return { key, algorithms: [algorithmFor(key)] };
  }
  const jwks = keyFile("jwt-jwks", config.jwksFile!, (pem) => JSON.parse(pem.toString("utf8")) as JSONWebKeySet);
  return { key: createLocalJWKSet(jwks), algorithms: algorithmsOfJwks(jwks) };
}

/** Only the algorithms of the keys the file holds are accepted, so no token can pick another. */
function algorithmsOfJwks(jwks: JSONWebKeySet): string[] {
  const algorithms = new Set((jwks.keys ?? []).map((jwk) => jwk.alg ?? (jwk.kty === "RSA" ? "RS256" : jwk.kty === "EC" && jwk.crv === "P-256" ? "ES256" : "")));
  const usable = [...algorithms].filter((alg) => alg === "RS256" || alg === "ES256");
  if (usable.length === 0) throw invalidArgument("invalid --jwt-jwks", "the JWKS file holds no RS256 or ES256 (P-256) key");
  return usable;
}

export interface SigningKey {
  key: Uint8Array | KeyObject;
  algorithm: string;
}

export function loadSigningKey(config: TokenKeyConfig): SigningKey {
  if (config.privateKeyFile) {
    const key = keyFile("jwt-private-key", config.privateKeyFile, createPrivateKey);
    return { key, algorithm: algorithmFor(key) };
  }
  if (config.secret) return { key: secretKeyOf(config.secret), algorithm: "HS256" };
  throw invalidArgument("no signing key", "minting needs --jwt-secret or --jwt-private-key");
}

/**
 * RFC 7518 §3.2: an HS256 key must be at least as long as the hash, 256 bits. A shorter secret
 * can be found by brute force offline from any one token, and the finder could then mint any token.
 */
const MIN_SECRET_BYTES = 32;

function secretKeyOf(secret: string): Uint8Array {
  const key = new TextEncoder().encode(secret);
  if (key.length < MIN_SECRET_BYTES) {
    throw invalidArgument(
      "invalid --jwt-secret",
      `an HS256 secret must be at least ${MIN_SECRET_BYTES} bytes, got ${key.length}; make one with: openssl rand -base64 32`,
    );
  }
  return key;
}

function algorithmFor(key: KeyObject): string {
  if (key.asymmetricKeyType === "rsa") return "RS256";
  if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return "ES256";
  throw invalidArgument("unsupported key type", `${key.asymmetricKeyType}; use an RSA or P-256 key`);
}

/** Reads and parses a key file, refusing it (naming the flag) when it cannot be read or is not a key. */
function keyFile<T>(flag: string, path: string, parse: (contents: Buffer) => T): T {
  try {
    return parse(readFileSync(path));
  } catch (err) {
    throw new MeshError(GrpcStatus.INVALID_ARGUMENT, `invalid --${flag}`, `${path}: ${(err as Error).message}`, { cause: err });
  }
}
