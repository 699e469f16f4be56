import { existsSync } from "node:fs";
import {
  DEFAULT_MAX_TOKEN_TTL,
  createTokenVerifier,
  loadVerificationKey,
  type TokenKeyConfig,
  type TokenVerifier,
  type VerifierOptions,
} from "../auth/index.js";
import { formatDuration, parseDuration, parseHostPort, type FlagValues } from "../config/index.js";
import { DEFAULT_GRPC_ADDRESS, DEFAULT_KEEPALIVE_MS, DEFAULT_REST_ADDRESS } from "../contract/index.js";
import { invalidArgument } from "../errors/index.js";
import { DEFAULT_JOB_TTL_MS } from "../router/index.js";
import { AUDIT_PRUNE_FLOOR_MS, redactDatabaseUrl, type StoreConfig } from "../store/index.js";
import type { Logger } from "../log/index.js";
import { createMetricsRegistry, serveMetrics, type Registry } from "../metrics/index.js";
import { listenOn } from "./listen-flag.js";
import { warnIfPlaintextOffLoopback } from "./plaintext-warning.js";

/** Where tokens are checked (router, edge) and minted (token, dev), the keys are configured the same way. */
export const jwtFlags = {
  "jwt-secret": { type: "string", description: "HS256 shared secret for caller tokens" },
  "jwt-public-key": { type: "string", description: "PEM public key file for RS256/ES256 caller tokens (instead of a secret)" },
  "jwt-jwks": { type: "string", description: "JWKS file for RS256/ES256 caller tokens (instead of a secret)" },
  "jwt-issuer": { type: "string", description: "when set, tokens must carry this iss" },
  "jwt-audience": { type: "string", description: "when set, tokens must carry this aud" },
  "max-token-ttl": {
    type: "string",
    default: DEFAULT_MAX_TOKEN_TTL,
    description: "the longest a caller token may live, from its iat (or nbf) to its exp; longer ones are refused, and not minted",
  },
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

/**
 * Reads and checks the key flags now, before anything opens or listens (a short HS256 secret
 * stops the process here); the verifier itself is made once the revocations it asks are open.
 */
export function verifierFactoryOf(flags: FlagValues<typeof jwtFlags>): (revocations?: VerifierOptions["revocations"]) => TokenVerifier {
  const config = tokenKeyConfigOf(flags);
  const key = loadVerificationKey(config);
  const maxLifetimeMs = maxTokenLifetimeOf(flags);
  return (revocations) => createTokenVerifier(key, { issuer: config.issuer, audience: config.audience, maxLifetimeMs, revocations });
}

export function maxTokenLifetimeOf(flags: Pick<FlagValues<typeof jwtFlags>, "max-token-ttl">): number {
  const ms = parseDuration("max-token-ttl", flags["max-token-ttl"]);
  if (ms < 1000) throw invalidArgument("invalid --max-token-ttl", `a token must be allowed to live at least 1 s, got "${flags["max-token-ttl"]}"`);
  return ms;
}

export const drainFlag = {
  "drain-timeout": { type: "string", default: "30s", description: "on SIGTERM, how long in-flight execs may take to finish" },
} as const;

export const keepaliveFlag = {
  keepalive: {
    type: "string",
    default: formatDuration(DEFAULT_KEEPALIVE_MS),
    description: "gRPC keepalive ping interval; a dead peer is noticed within about twice this",
  },
} as const;

export const storeFlags = {
  "data-dir": { type: "string", default: "./data", description: "where the job store and audit log (one SQLite file) live" },
  "job-ttl": { type: "string", default: formatDuration(DEFAULT_JOB_TTL_MS), description: "finished jobs older than this are pruned" },
  "audit-ttl": {
    type: "string",
    default: "90d",
    description: "audit entries older than this are pruned by the router, the only deletion the audit log allows (at least 1d)",
  },
} as const;

/** PostgreSQL instead of SQLite: for several routers sharing jobs, audit and revocations (router only). */
export const databaseFlags = {
  "database-url": {
    type: "string",
    description:
      "postgres://USER:PASSWORD@HOST:PORT/DATABASE: keep jobs, idempotency keys, the audit log and revocations in PostgreSQL, shared by the routers of a mesh, instead of SQLite under --data-dir; its schema is migrated at startup. The password is never logged",
  },
  "database-ca": {
    type: "string",
    description: "PEM file of the CA that signed PostgreSQL's certificate: the connection then requires TLS and verifies the server against it",
  },
} as const;

/** Where the stores are: PostgreSQL with --database-url (its URL and CA file checked here; reached and migrated when opened), else SQLite under --data-dir. */
export function storeConfigOf(flags: FlagValues<typeof storeFlags & typeof databaseFlags>): StoreConfig {
  const url = flags["database-url"];
  const caFile = flags["database-ca"];
  if (!url) {
    if (caFile)
      throw invalidArgument(
        "invalid --database-ca",
        "--database-ca is for the --database-url connection; set --database-url too, or leave both out for SQLite",
      );
    return { dataDir: flags["data-dir"] };
  }
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw invalidArgument("invalid --database-url", `expected postgres://USER:PASSWORD@HOST:PORT/DATABASE, got ${redactDatabaseUrl(url)}`);
  }
  if (caFile && !existsSync(caFile)) throw invalidArgument("invalid --database-ca", `no file "${caFile}"`);
  return {
    dataDir: flags["data-dir"],
    database: { url, caFile },
  };
}

/** --audit-ttl, checked against the floor the audit store enforces (it refuses to delete younger entries). */
export function auditTtlOf(flags: FlagValues<typeof storeFlags>): number {
  const ttlMs = parseDuration("audit-ttl", flags["audit-ttl"]);
  if (ttlMs < AUDIT_PRUNE_FLOOR_MS) {
    throw invalidArgument("invalid --audit-ttl", `must be at least 1d: the audit log refuses to delete younger entries; got "${flags["audit-ttl"]}"`);
  }
  return ttlMs;
}

/**
 * Listen flags are named by what they serve, the same in every command. `--listen` was the REST
 * address of dev and gateway but the gRPC address of router; it is kept, meaning what it meant in
 * each command, as a deprecated name with a warning (see FlagSpec.renamedTo).
 */
export const grpcListenFlag = {
  "grpc-listen": {
    type: "string",
    default: DEFAULT_GRPC_ADDRESS,
    description: "HOST:PORT to serve gRPC on: callers and the agents' streams (port 0: any free port)",
  },
} as const;

export const restListenFlag = {
  "rest-listen": { type: "string", default: DEFAULT_REST_ADDRESS, description: "HOST:PORT to serve the REST API on (port 0: any free port)" },
} as const;

export function oldListenFlag(renamedTo: "grpc-listen" | "rest-listen") {
  return { listen: { type: "string", renamedTo, description: `the old name of --${renamedTo}` } } as const;
}

export const metricsFlag = {
  "metrics-listen": { type: "string", description: "HOST:PORT to serve Prometheus metrics on (GET /metrics); none when unset" },
} as const;

export function metricsListenOf(flags: FlagValues<typeof metricsFlag>): { host: string; port: number } | undefined {
  const listen = flags["metrics-listen"];
  return listen ? parseHostPort("metrics-listen", listen) : undefined;
}

/** The process's metrics registry, served on --metrics-listen when it is set. */
export async function startMetrics(listen: { host: string; port: number } | undefined, log: Logger): Promise<{ registry: Registry; close(): Promise<void> }> {
  const registry = createMetricsRegistry();
  if (!listen) return { registry, close: async () => {} };
  const { host, port } = listen;
  warnIfPlaintextOffLoopback(log, {
    what: "Prometheus metrics (no TLS, no token)",
    host,
    listenFlag: "metrics-listen",
    fix: "set --metrics-listen to a loopback address and scrape through a proxy",
  });
  const server = await listenOn("metrics-listen", () => serveMetrics(host, port, registry, log));
  return { registry, close: () => server.close() };
}
