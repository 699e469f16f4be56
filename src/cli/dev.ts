import { randomBytes } from "node:crypto";
import { Agent } from "../../agent/index.js";
import { startGateway } from "../../gateway/index.js";
import {
  DEFAULT_MAX_TOKEN_TTL,
  CANCEL_ANY_JOB_SCOPE,
  READ_ANY_JOB_SCOPE,
  createTokenVerifier,
  loadSigningKey,
  loadVerificationKey,
  mintAgentToken,
  mintToken,
  requiredScopeByMethod,
} from "../auth/index.js";
import { checkFlags, parseDuration, parseHostPort, parseLabels } from "../config/index.js";
import { createLogger } from "../log/index.js";
import { DEFAULT_SUBJECT_LIMITS, startRouter } from "../router/index.js";
import { openSqliteStores } from "../store/index.js";
import { MESHEXEC_VERSION } from "../version.js";
import { agentFlags, dockerRuntimeOf, hostnameOf } from "./agent.js";
import { defineCommand, stopOnSignals } from "./command.js";
import { listenOn } from "./listen-flag.js";
import { DEFAULT_ROUTER_NAME } from "./mesh-flags.js";
import { warnIfPlaintextOffLoopback } from "./plaintext-warning.js";
import { auditTtlOf, grpcListenFlag, metricsFlag, metricsListenOf, oldListenFlag, restListenFlag, startMetrics, storeFlags } from "./shared-flags.js";

/** The tokens dev mints (the caller's it prints, its agent's, its edge's own) last as long as a working day's session. */
const DEV_TOKEN_TTL_MS = 24 * 3_600_000;
/** The dev agent's label, so the README's label targets (`role:dev`, and `role:web` once a second agent joins) work in dev. */
const DEV_AGENT_LABEL = "role=dev";
/**
 * The dev user is the only user of a local sandbox, so its token carries every caller scope: each
 * README example works with it, agents revoke and token revoke included. Not audit:record: that
 * is the edge's credential, and with it a caller could make the router believe any client address.
 */
const DEV_SCOPES: string[] = [...new Set<string>(Object.values(requiredScopeByMethod))]
  .filter((scope) => scope !== requiredScopeByMethod.RecordEdgeRefusal)
  .concat(READ_ANY_JOB_SCOPE, CANCEL_ANY_JOB_SCOPE);

export const devCommand = defineCommand({
  usage: "[--rest-listen HOST:PORT] [--grpc-listen HOST:PORT] [--label key=value]…",
  flags: {
    ...restListenFlag,
    ...grpcListenFlag,
    ...oldListenFlag("rest-listen"),
    "jwt-secret": { type: "string", description: "HS256 secret; a random one is made when unset" },
    ...storeFlags,
    ...metricsFlag,
    hostname: agentFlags.hostname,
    label: { type: "strings", description: `a key=value label for the dev agent, besides ${DEV_AGENT_LABEL}` },
    "docker-socket": agentFlags["docker-socket"],
    "output-limit": agentFlags["output-limit"],
  },
  async run(flags) {
    const secret = flags["jwt-secret"] ?? randomBytes(32).toString("base64url");
    // Every flag is read and checked here, before anything listens: all bad ones at once.
    const config = checkFlags({
      keys: () => ({ signing: loadSigningKey({ secret }), verification: loadVerificationKey({ secret }) }),
      rest: () => parseHostPort("rest-listen", flags["rest-listen"]),
      grpc: () => parseHostPort("grpc-listen", flags["grpc-listen"]),
      hostname: () => hostnameOf(flags.hostname),
      labels: () => parseLabels([DEV_AGENT_LABEL, ...flags.label]),
      runtime: () => dockerRuntimeOf(flags),
      jobTtlMs: () => parseDuration("job-ttl", flags["job-ttl"]),
      auditTtlMs: () => auditTtlOf(flags),
      metricsListen: () => metricsListenOf(flags),
    });
    const { rest, grpc, labels } = config;
    const signingKey = config.keys.signing;
    // The dev agent is admitted as any other: with a token of its own, for its hostname and labels.
    const agentToken = await mintAgentToken(signingKey, { hostname: flags.hostname, labels, ttlMs: DEV_TOKEN_TTL_MS });
    const maxTokenLifetimeMs = parseDuration("max-token-ttl", DEFAULT_MAX_TOKEN_TTL);

    const devLog = createLogger("dev");
    // dev serves no TLS at all: off loopback, the only fix is to listen on it.
    const devFix = "dev serves no TLS; listen on 127.0.0.1, or run router and gateway with --tls-cert and --tls-key";
    warnIfPlaintextOffLoopback(devLog, { what: "the gRPC API and the agents' streams", host: grpc.host, listenFlag: "grpc-listen", fix: devFix });
    warnIfPlaintextOffLoopback(devLog, { what: "the REST API", host: rest.host, listenFlag: "rest-listen", fix: devFix });

    const stores = openSqliteStores(flags["data-dir"]);
    // One verifier for the router and the edge, so in dev the edge honours revocations too.
    const verifier = createTokenVerifier(config.keys.verification, { maxLifetimeMs: maxTokenLifetimeMs, revocations: stores.tokenRevocations });
    // One process, so one registry: the three parts' metric names do not overlap.
    const metrics = await startMetrics(config.metricsListen, devLog);
    const router = await listenOn("grpc-listen", () =>
      startRouter({
        name: DEFAULT_ROUTER_NAME,
        ...grpc,
        verifier,
        stores,
        jobTtlMs: config.jobTtlMs,
        auditTtlMs: config.auditTtlMs,
        maxTokenLifetimeMs,
        subjectLimits: DEFAULT_SUBJECT_LIMITS,
        metrics: metrics.registry,
        log: createLogger("router"),
      }),
    );
    const routerAddress = `${grpc.host}:${router.port}`;
    // The edge's own credential: its refusals are audited and its x-forwarded-for believed.
    const routerToken = await mintToken(signingKey, { subject: "dev-edge", scopes: [requiredScopeByMethod.RecordEdgeRefusal], ttlMs: DEV_TOKEN_TTL_MS });
    const gateway = await listenOn("rest-listen", () =>
      startGateway({ ...rest, router: routerAddress, routerToken, verifier, metrics: metrics.registry, log: createLogger("gateway") }),
    );
    const agent = new Agent({
      routers: [routerAddress],
      hostname: flags.hostname,
      labels,
      token: agentToken,
      runtime: config.runtime,
      log: createLogger("agent").child({ hostname: flags.hostname }),
      metrics: metrics.registry,
      version: MESHEXEC_VERSION,
    }).start();
    await agent.link.whenConnected();

    const token = await mintToken(signingKey, { subject: "dev", scopes: DEV_SCOPES, ttlMs: DEV_TOKEN_TTL_MS });
    process.stderr.write(
      devBanner({
        base: `http://${rest.host}:${gateway.port}`,
        routerAddress,
        hostname: flags.hostname,
        labels,
        token,
        randomSecret: flags["jwt-secret"] ? undefined : secret,
      }),
    );
    stopOnSignals(async () => {
      await agent.drain(10_000);
      await gateway.stop();
      await router.stop(1_000);
      await stores.close();
      await metrics.close();
    });
  },
});

/**
 * What dev prints once it is up: exports the CLI reads (MESHEXEC_GATEWAY, MESHEXEC_TOKEN) and the
 * README's curl reads (TOKEN), so the next command typed works, and how to attach a second agent.
 */
function devBanner(run: {
  base: string;
  routerAddress: string;
  hostname: string;
  labels: Record<string, string>;
  token: string;
  randomSecret?: string;
}): string {
  const labels = Object.entries(run.labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(",");
  const secretFlag = run.randomSecret ? ` --jwt-secret ${run.randomSecret}` : "";
  return [
    "",
    `meshexec dev: REST on ${run.base}, gRPC on ${run.routerAddress}, one agent "${run.hostname}" (${labels}) on the local Docker engine.`,
    ...(run.randomSecret ? [`JWT secret (random, this run only): ${run.randomSecret}`] : []),
    `A token for you (24 h, ${DEV_SCOPES.join(" ")}); paste these into your shell:`,
    `  export MESHEXEC_GATEWAY=${run.base} MESHEXEC_TOKEN=${run.token}`,
    `  export TOKEN=$MESHEXEC_TOKEN`,
    `Try (meshexec not on your PATH? make install PREFIX=$HOME/.local, or run node dist/src/cli/main.js):`,
    `  meshexec exec --container <container> -- sh -c 'echo hello from $(hostname)'`,
    `  curl -s -X POST ${run.base}/node/_any/container/docker/<container>/exec \\`,
    `    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\`,
    `    -d '{"command":["sh","-c","echo hello from $(hostname)"]}'`,
    `Attach a second agent, with labels (each agent has its own token, for its hostname and labels${run.randomSecret ? "" : "; signed with the --jwt-secret you gave dev, as MESHEXEC_JWT_SECRET"}):`,
    `  meshexec agent --router ${run.routerAddress} --hostname web-1 --label role=web \\`,
    `    --agent-token "$(meshexec token --agent web-1 --label role=web${secretFlag})"`,
    "",
  ].join("\n");
}
