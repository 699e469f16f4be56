import { setFlagsFromString } from "node:v8";
import { checkFlags, formatDuration, parseDuration, parseHostPort, parsePositiveInt, parseWholeNumber, type FlagValues } from "../config/index.js";
import { DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_OUTPUT_LIMIT_BYTES } from "../contract/index.js";
import { invalidArgument } from "../errors/index.js";
import { createLogger, type Logger } from "../log/index.js";
import { DEFAULT_MAX_FANOUT_OUTPUT_BYTES, DEFAULT_SUBJECT_LIMITS, connectNats, startRouter, type SubjectLimitsConfig } from "../router/index.js";
import { openStores, type StoreConfig } from "../store/index.js";
import { defineCommand, stopOnSignals } from "./command.js";
import { listenOn } from "./listen-flag.js";
import { meshFlags, natsOptionsOf, routerNameOf } from "./mesh-flags.js";
import { TLS_FIX, warnIfPlaintextOffLoopback } from "./plaintext-warning.js";
import { readinessFlags, readinessOf } from "./readiness-flags.js";
import {
  auditTtlOf,
  databaseFlags,
  drainFlag,
  grpcListenFlag,
  jwtFlags,
  keepaliveFlag,
  maxTokenLifetimeOf,
  metricsFlag,
  metricsListenOf,
  oldListenFlag,
  startMetrics,
  storeConfigOf,
  storeFlags,
  verifierFactoryOf,
} from "./shared-flags.js";
import { clientCaFlag, grpcServerCredentialsOf, servingTlsFlags } from "./tls-flags.js";

export const routerCommand = defineCommand({
  usage: "--grpc-listen HOST:PORT --jwt-secret SECRET",
  flags: {
    ...grpcListenFlag,
    ...oldListenFlag("grpc-listen"),
    ...meshFlags,
    "insecure-join-token": {
      type: "string",
      description:
        "INSECURE: a shared token with which any agent may register as any hostname with any labels; logged as a warning at startup. Agents otherwise present their own token (meshexec token --agent) or client certificate",
    },
    ...jwtFlags,
    ...storeFlags,
    ...databaseFlags,
    ...metricsFlag,
    ...keepaliveFlag,
    "heartbeat-interval": {
      type: "string",
      default: formatDuration(DEFAULT_HEARTBEAT_INTERVAL_MS),
      description: "how often agents send a heartbeat and the router answers it; keep it below the idle timeouts of any proxy in between",
    },
    "rate-limit": {
      type: "string",
      default: String(DEFAULT_SUBJECT_LIMITS.ratePerSecond),
      description: "execs each subject (a token's sub) may start per second, on average; past it, 429 with Retry-After (0: no limit)",
    },
    "rate-limit-burst": {
      type: "string",
      default: String(DEFAULT_SUBJECT_LIMITS.burst),
      description: "execs a subject may start at once before --rate-limit applies",
    },
    "max-concurrent-execs": {
      type: "string",
      default: String(DEFAULT_SUBJECT_LIMITS.maxConcurrent),
      description: "execs (async jobs included) each subject may have running at once; past it, 429 with Retry-After (0: no limit)",
    },
    "agent-output-limit": {
      type: "string",
      default: String(DEFAULT_OUTPUT_LIMIT_BYTES),
      description:
        "the agents' --output-limit: bytes of stdout and of stderr kept per host; a reply larger than twice this plus 64 KiB closes the agent's stream (RESOURCE_EXHAUSTED)",
    },
    "max-fanout-output": {
      type: "string",
      default: String(DEFAULT_MAX_FANOUT_OUTPUT_BYTES),
      description: "bytes of stdout and stderr one exec keeps over all its hosts; hosts answering past it are truncated (stdout_truncated/stderr_truncated)",
    },
    ...readinessFlags,
    "no-reflection": { type: "boolean", description: "do not serve gRPC server reflection" },
    ...servingTlsFlags,
    ...clientCaFlag,
    ...drainFlag,
  },
  async run(flags) {
    boundHeapGrowth();
    const joinToken = flags["insecure-join-token"];
    // Every flag is read and checked here, before anything opens or listens: all bad ones at once.
    const config = checkFlags({
      grpc: () => parseHostPort("grpc-listen", flags["grpc-listen"]),
      name: () => routerNameOf(flags),
      nats: () => {
        const nats = natsOptionsOf(flags);
        // Several routers share jobs, idempotency keys and audit in PostgreSQL; one router keeps them in SQLite.
        if (nats && !flags["database-url"]) {
          throw invalidArgument(
            "--nats without --database-url",
            "a router in a mesh keeps jobs and audit in PostgreSQL with the other routers: set --database-url too",
          );
        }
        // The reverse is allowed: routers sharing only PostgreSQL share records, each serving its own agents.
        return nats;
      },
      stores: () => storeConfigOf(flags),
      admission: () => {
        if (!joinToken && !flags["jwt-secret"] && !flags["jwt-public-key"] && !flags["jwt-jwks"]) {
          throw invalidArgument(
            "no way to admit agents",
            "agents present tokens (meshexec token --agent) the router verifies with --jwt-secret, --jwt-public-key or --jwt-jwks; set one of them",
          );
        }
      },
      credentials: () => grpcServerCredentialsOf(flags),
      verifierFor: () => verifierFactoryOf(flags),
      maxTokenLifetimeMs: () => maxTokenLifetimeOf(flags),
      subjectLimits: () => subjectLimitsOf(flags),
      jobTtlMs: () => parseDuration("job-ttl", flags["job-ttl"]),
      auditTtlMs: () => auditTtlOf(flags),
      outputLimits: () => outputLimitsOf(flags),
      keepaliveMs: () => parseDuration("keepalive", flags.keepalive),
      heartbeatIntervalMs: () => parseDuration("heartbeat-interval", flags["heartbeat-interval"]),
      readiness: () => readinessOf(flags),
      metricsListen: () => metricsListenOf(flags),
      drainTimeoutMs: () => parseDuration("drain-timeout", flags["drain-timeout"]),
    });
    const { host, port } = config.grpc;
    const log = createLogger("router").child({ router: config.name });
    // An unreachable NATS refuses the start (exit 2, naming the servers without credentials), before anything listens.
    const nats = config.nats ? await connectNats(config.name, config.nats) : undefined;
    // An unreachable database refuses the start (exit 2, naming it without its password), before anything listens.
    const stores = await openStores(withIdleErrorsLogged(config.stores, log));
    log.info({ stores: stores.where, shared: stores.shared }, "stores open");
    if (!flags["tls-cert"]) warnIfPlaintextOffLoopback(log, { what: "the gRPC API and the agents' streams", host, listenFlag: "grpc-listen", fix: TLS_FIX });
    if (joinToken) {
      log.warn(
        { flag: "--insecure-join-token" },
        "insecure join token: any agent holding it may register as any hostname with any labels and take over a join-token session; mint per-agent tokens (meshexec token --agent) instead",
      );
    }
    const metrics = await startMetrics(config.metricsListen, log);
    const router = await listenOn("grpc-listen", () =>
      startRouter({
        name: config.name,
        nats,
        host,
        port,
        verifier: config.verifierFor(stores.tokenRevocations),
        maxTokenLifetimeMs: config.maxTokenLifetimeMs,
        subjectLimits: config.subjectLimits,
        insecureJoinToken: joinToken,
        trustClientCertificates: Boolean(flags["tls-client-ca"]),
        stores,
        jobTtlMs: config.jobTtlMs,
        auditTtlMs: config.auditTtlMs,
        ...config.outputLimits,
        reflection: !flags["no-reflection"],
        keepaliveMs: config.keepaliveMs,
        heartbeatIntervalMs: config.heartbeatIntervalMs,
        readiness: config.readiness,
        credentials: config.credentials,
        log,
        metrics: metrics.registry,
      }),
    );
    stopOnSignals(async () => {
      await router.stop(config.drainTimeoutMs);
      await nats?.drain().catch(() => {});
      await stores.close();
      await metrics.close();
    });
  },
});

type RouterFlags = FlagValues<(typeof routerCommand)["flags"]>;

/** A database connection that breaks while idle (PostgreSQL restarted) is worth a line: the next query opens a new one. */
function withIdleErrorsLogged(config: StoreConfig, log: Logger): StoreConfig {
  if (!config.database) return config;
  return {
    ...config,
    database: { ...config.database, onIdleError: (err) => log.warn({ err }, "a database connection broke while idle; the next query opens a new one") },
  };
}

function subjectLimitsOf(flags: RouterFlags): SubjectLimitsConfig {
  const limits = checkFlags({
    ratePerSecond: () => parseWholeNumber("rate-limit", flags["rate-limit"]),
    burst: () => parseWholeNumber("rate-limit-burst", flags["rate-limit-burst"]),
    maxConcurrent: () => parseWholeNumber("max-concurrent-execs", flags["max-concurrent-execs"]),
  });
  if (limits.ratePerSecond > 0 && limits.burst < 1) {
    throw invalidArgument("invalid --rate-limit-burst", "with a --rate-limit, the burst must be at least 1");
  }
  return limits;
}

function outputLimitsOf(flags: RouterFlags): { agentOutputLimitBytes: number; maxFanoutOutputBytes: number } {
  const limits = checkFlags({
    agentOutputLimitBytes: () => parsePositiveInt("agent-output-limit", flags["agent-output-limit"]),
    maxFanoutOutputBytes: () => parsePositiveInt("max-fanout-output", flags["max-fanout-output"]),
  });
  if (limits.maxFanoutOutputBytes < limits.agentOutputLimitBytes) {
    throw invalidArgument(
      "invalid --max-fanout-output",
      `must be at least --agent-output-limit (${limits.agentOutputLimitBytes}), so one host's output fits; got ${limits.maxFanoutOutputBytes}`,
    );
  }
  return limits;
}

/**
 * A router's heap is mostly its agents' connections, which live long, while every fan-out leaves
 * garbage that V8 promotes to old space (grpc-js keeps each stream's last message until the next
 * one). After a full GC, V8 lets old space grow to as much as 4x what survived before the next,
 * and picks 4x when its GC looked fast, as in a burst of agents connecting: with 1,000 agents,
 * 120 _all calls then grew the router by 45-70 MiB without a full GC. 1.5x bounds that, for a
 * full GC of 10-20 ms about every 20 such calls. Set before any agent connects.
 */
function boundHeapGrowth(): void {
  setFlagsFromString("--heap-growing-percent=50");
}
