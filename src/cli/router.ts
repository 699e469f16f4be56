import { setFlagsFromString } from "node:v8";
import { parseDuration, parseHostPort, parsePositiveInt } from "../config/index.js";
import { DEFAULT_OUTPUT_LIMIT_BYTES } from "../contract/index.js";
import { invalidArgument } from "../errors/index.js";
import { createLogger } from "../log/index.js";
import { DEFAULT_MAX_FANOUT_OUTPUT_BYTES, startRouter } from "../router/index.js";
import { openSqliteStores } from "../store/index.js";
import { defineCommand, stopOnSignals } from "./command.js";
import { TLS_FIX, warnIfPlaintextOffLoopback } from "./plaintext-warning.js";
import { auditTtlOf, drainFlag, jwtFlags, keepaliveFlag, metricsFlag, startMetrics, storeFlags, verifierOf } from "./shared-flags.js";
import { clientCaFlag, grpcServerCredentialsOf, servingTlsFlags } from "./tls-flags.js";

export const routerCommand = defineCommand({
  summary: "Serves the gRPC API to callers and holds the agents' streams.",
  usage: "--listen HOST:PORT --agent-token TOKEN --jwt-secret SECRET",
  flags: {
    listen: { type: "string", default: "127.0.0.1:50051", description: "gRPC address to listen on (port 0: any free port)" },
    "agent-token": { type: "string", description: "join token agents must present (required)" },
    ...jwtFlags,
    ...storeFlags,
    ...metricsFlag,
    ...keepaliveFlag,
    "heartbeat-interval": {
      type: "string",
      default: "5s",
      description: "how often agents send a heartbeat and the router answers it; keep it below the idle timeouts of any proxy in between",
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
    "no-reflection": { type: "boolean", description: "do not serve gRPC server reflection" },
    ...servingTlsFlags,
    ...clientCaFlag,
    ...drainFlag,
  },
  async run(flags) {
    boundHeapGrowth();
    if (!flags["agent-token"]) throw invalidArgument("missing --agent-token", "set --agent-token or MESHEXEC_AGENT_TOKEN");
    const { host, port } = parseHostPort("listen", flags.listen);
    const credentials = grpcServerCredentialsOf(flags);
    const auditTtlMs = auditTtlOf(flags);
    const agentOutputLimitBytes = parsePositiveInt("agent-output-limit", flags["agent-output-limit"]);
    const maxFanoutOutputBytes = parsePositiveInt("max-fanout-output", flags["max-fanout-output"]);
    if (maxFanoutOutputBytes < agentOutputLimitBytes) {
      throw invalidArgument("invalid --max-fanout-output", `must be at least --agent-output-limit (${agentOutputLimitBytes}), so one host's output fits; got ${maxFanoutOutputBytes}`);
    }
    const stores = openSqliteStores(flags["data-dir"]);
    const log = createLogger("router");
    if (!flags["tls-cert"]) warnIfPlaintextOffLoopback(log, { what: "the gRPC API and the agents' streams", host, listenFlag: "listen", fix: TLS_FIX });
    const metrics = await startMetrics(flags["metrics-listen"], log);
    const router = await startRouter({
      host,
      port,
      verifier: verifierOf(flags),
      joinToken: flags["agent-token"],
      stores,
      jobTtlMs: parseDuration("job-ttl", flags["job-ttl"]),
      auditTtlMs,
      agentOutputLimitBytes,
      maxFanoutOutputBytes,
      reflection: !flags["no-reflection"],
      keepaliveMs: parseDuration("keepalive", flags.keepalive),
      heartbeatIntervalMs: parseDuration("heartbeat-interval", flags["heartbeat-interval"]),
      credentials,
      log,
      metrics: metrics.registry,
    });
    stopOnSignals(async () => {
      await router.stop(parseDuration("drain-timeout", flags["drain-timeout"]));
      stores.close();
      await metrics.close();
    });
  },
});

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
