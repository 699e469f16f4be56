import { randomBytes } from "node:crypto";
import { Agent } from "../../agent/index.js";
import { startGateway } from "../../gateway/index.js";
import { DEFAULT_MAX_TOKEN_TTL, createTokenVerifier, loadSigningKey, loadVerificationKey, mintAgentToken, mintToken, requiredScopeByMethod } from "../auth/index.js";
import { parseDuration, parseHostPort, parseLabels } from "../config/index.js";
import { createLogger } from "../log/index.js";
import { DEFAULT_SUBJECT_LIMITS, startRouter } from "../router/index.js";
import { openSqliteStores } from "../store/index.js";
import { MESHEXEC_VERSION } from "../version.js";
import { agentFlags, dockerRuntimeOf } from "./agent.js";
import { defineCommand, stopOnSignals } from "./command.js";
import { DEFAULT_ROUTER_NAME } from "./mesh-flags.js";
import { warnIfPlaintextOffLoopback } from "./plaintext-warning.js";
import { auditTtlOf, metricsFlag, startMetrics, storeFlags } from "./shared-flags.js";

/** The tokens dev mints (the caller's it prints, its agent's, its edge's own) last as long as a working day's session. */
const DEV_TOKEN_TTL_MS = 24 * 3_600_000;

export const devCommand = defineCommand({
  usage: "[--listen HOST:PORT] [--grpc-listen HOST:PORT]",
  flags: {
    listen: { type: "string", default: "127.0.0.1:8080", description: "REST address" },
    "grpc-listen": { type: "string", default: "127.0.0.1:50051", description: "gRPC address" },
    "jwt-secret": { type: "string", description: "HS256 secret; a random one is made when unset" },
    ...storeFlags,
    ...metricsFlag,
    hostname: agentFlags.hostname,
    label: agentFlags.label,
    "docker-socket": agentFlags["docker-socket"],
    "output-limit": agentFlags["output-limit"],
  },
  async run(flags) {
    const secret = flags["jwt-secret"] ?? randomBytes(32).toString("base64url");
    const signingKey = loadSigningKey({ secret });
    const labels = parseLabels(flags.label);
    // The dev agent is admitted as any other: with a token of its own, for its hostname and labels.
    const agentToken = await mintAgentToken(signingKey, { hostname: flags.hostname, labels, ttlMs: DEV_TOKEN_TTL_MS });
    const key = loadVerificationKey({ secret });
    const maxTokenLifetimeMs = parseDuration("max-token-ttl", DEFAULT_MAX_TOKEN_TTL);
    const grpc = parseHostPort("grpc-listen", flags["grpc-listen"]);
    const rest = parseHostPort("listen", flags.listen);

    const jobTtlMs = parseDuration("job-ttl", flags["job-ttl"]);
    const auditTtlMs = auditTtlOf(flags);
    const devLog = createLogger("dev");
    // dev serves no TLS at all: off loopback, the only fix is to listen on it.
    const devFix = "dev serves no TLS; listen on 127.0.0.1, or run router and gateway with --tls-cert and --tls-key";
    warnIfPlaintextOffLoopback(devLog, { what: "the gRPC API and the agents' streams", host: grpc.host, listenFlag: "grpc-listen", fix: devFix });
    warnIfPlaintextOffLoopback(devLog, { what: "the REST API", host: rest.host, listenFlag: "listen", fix: devFix });

    const stores = openSqliteStores(flags["data-dir"]);
    // One verifier for the router and the edge, so in dev the edge honours revocations too.
    const verifier = createTokenVerifier(key, { maxLifetimeMs: maxTokenLifetimeMs, revocations: stores.tokenRevocations });
    // One process, so one registry: the three parts' metric names do not overlap.
    const metrics = await startMetrics(flags["metrics-listen"], devLog);
    const router = await startRouter({
      name: DEFAULT_ROUTER_NAME,
      ...grpc,
      verifier,
      stores,
      jobTtlMs,
      auditTtlMs,
      maxTokenLifetimeMs,
      subjectLimits: DEFAULT_SUBJECT_LIMITS,
      metrics: metrics.registry,
      log: createLogger("router"),
    });
    const routerAddress = `${grpc.host}:${router.port}`;
    // The edge's own credential: its refusals are audited and its x-forwarded-for believed.
    const routerToken = await mintToken(signingKey, { subject: "dev-edge", scopes: [requiredScopeByMethod.RecordEdgeRefusal], ttlMs: DEV_TOKEN_TTL_MS });
    const gateway = await startGateway({ ...rest, router: routerAddress, routerToken, verifier, metrics: metrics.registry, log: createLogger("gateway") });
    const agent = new Agent({
      router: routerAddress,
      hostname: flags.hostname,
      labels,
      token: agentToken,
      runtime: dockerRuntimeOf(flags),
      log: createLogger("agent").child({ hostname: flags.hostname }),
      metrics: metrics.registry,
      version: MESHEXEC_VERSION,
    }).start();
    await agent.link.whenConnected();

    const token = await mintToken(signingKey, { subject: "dev", scopes: ["docker:execute", "agent:read", "job:read", "audit:read"], ttlMs: DEV_TOKEN_TTL_MS });
    const base = `http://${rest.host}:${gateway.port}`;
    process.stderr.write(
      [
        "",
        `meshexec dev: REST on ${base}, gRPC on ${routerAddress}, one agent "${flags.hostname}" on the local Docker engine.`,
        flags["jwt-secret"] ? "" : `JWT secret (random, this run only): ${secret}`,
        `Token (24 h, docker:execute agent:read job:read audit:read):`,
        `  export TOKEN=${token}`,
        `Try:`,
        `  curl -s -X POST ${base}/node/_any/container/docker/<container>/exec \\`,
        `    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\`,
        `    -d '{"command":["sh","-c","echo hello from $(hostname)"]}'`,
        "",
      ]
        .filter((line, i, all) => line !== "" || i === 0 || i === all.length - 1)
        .join("\n") + "\n",
    );
    stopOnSignals(async () => {
      await agent.drain(10_000);
      await gateway.stop(10_000);
      await router.stop(1_000);
      await stores.close();
      await metrics.close();
    });
  },
});
