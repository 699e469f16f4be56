import { hostname as osHostname } from "node:os";
import { Agent, DEFAULT_MAX_IN_FLIGHT_EXECS, DEFAULT_MAX_QUEUED_EXECS, DockerRuntime, NoopRuntime, type ContainerRuntime } from "../../agent/index.js";
import { checkFlags, parseChoice, parseDuration, parseLabels, parsePositiveInt, parseRouterAddresses } from "../config/index.js";
import { DEFAULT_GRPC_ADDRESS, DEFAULT_OUTPUT_LIMIT_BYTES } from "../contract/index.js";
import { invalidArgument, quoteForMessage } from "../errors/index.js";
import { createLogger } from "../log/index.js";
import { isHostname } from "../router/target.js";
import { MESHEXEC_VERSION } from "../version.js";
import { defineCommand, stopOnSignals } from "./command.js";
import { drainFlag, keepaliveFlag, metricsFlag, metricsListenOf, startMetrics } from "./shared-flags.js";
import { routerDialCredentialsOf, routerDialTlsFlags } from "./tls-flags.js";

export const agentFlags = {
  router: {
    type: "string",
    default: DEFAULT_GRPC_ADDRESS,
    description:
      "the router's gRPC address; in a mesh, several comma separated (or one DNS name resolving to several): the agent holds one stream, to the first that answers, and dials the next when it breaks",
  },
  hostname: { type: "string", default: osHostname(), description: "the name this node registers as" },
  label: { type: "strings", description: "a key=value label to register" },
  runtime: {
    type: "string",
    default: "docker",
    description: "docker, or noop: answers every exec at once and runs nothing; noop exists only for benchmarking the mesh (make bench)",
  },
  "docker-socket": { type: "string", description: "the Docker engine's unix socket (default: DOCKER_HOST or /var/run/docker.sock)" },
  "output-limit": { type: "string", default: String(DEFAULT_OUTPUT_LIMIT_BYTES), description: "bytes of stdout and of stderr kept per exec" },
  "max-in-flight": { type: "string", default: String(DEFAULT_MAX_IN_FLIGHT_EXECS), description: "execs run at once" },
  "max-queued": { type: "string", default: String(DEFAULT_MAX_QUEUED_EXECS), description: "execs queued behind those; past this they are refused" },
} as const;

const RUNTIMES = ["docker", "noop"] as const;

export const agentCommand = defineCommand({
  usage: "--router HOST:PORT[,HOST:PORT…] --hostname NAME [--label key=value]… [--docker-socket PATH] --agent-token TOKEN (or --tls-cert FILE --tls-key FILE)",
  flags: {
    ...agentFlags,
    "agent-token": {
      type: "string",
      description:
        "this agent's own token, from meshexec token --agent HOSTNAME (required unless --tls-cert names the hostname to a router requiring client certificates)",
    },
    ...routerDialTlsFlags(""),
    ...metricsFlag,
    ...keepaliveFlag,
    ...drainFlag,
  },
  async run(flags) {
    // Every flag is read and checked here, before anything dials or listens: all bad ones at once.
    const config = checkFlags({
      credential: () => {
        if (!flags["agent-token"] && !flags["tls-cert"]) {
          throw invalidArgument("missing --agent-token", "set --agent-token (or MESHEXEC_AGENT_TOKEN) to this agent's token, or give --tls-cert and --tls-key");
        }
      },
      hostname: () => hostnameOf(flags.hostname),
      routers: () => parseRouterAddresses("router", flags.router),
      routerCredentials: () => routerDialCredentialsOf("", flags),
      labels: () => parseLabels(flags.label),
      runtime: () => runtimeOf(flags),
      maxInFlight: () => parsePositiveInt("max-in-flight", flags["max-in-flight"]),
      maxQueued: () => parsePositiveInt("max-queued", flags["max-queued"]),
      keepaliveMs: () => parseDuration("keepalive", flags.keepalive),
      drainTimeoutMs: () => parseDuration("drain-timeout", flags["drain-timeout"]),
      metricsListen: () => metricsListenOf(flags),
    });
    const log = createLogger("agent").child({ hostname: flags.hostname });
    const metrics = await startMetrics(config.metricsListen, log);
    const agent = new Agent({
      routers: config.routers,
      hostname: flags.hostname,
      labels: config.labels,
      // An empty MESHEXEC_AGENT_TOKEN is no token: the client certificate is then the identity.
      token: flags["agent-token"] || undefined,
      runtime: config.runtime,
      log,
      metrics: metrics.registry,
      version: MESHEXEC_VERSION,
      maxInFlight: config.maxInFlight,
      maxQueued: config.maxQueued,
      keepaliveMs: config.keepaliveMs,
      routerCredentials: config.routerCredentials,
    }).start();
    stopOnSignals(async () => {
      await agent.drain(config.drainTimeoutMs);
      await metrics.close();
    });
  },
});

/** The router refuses a hello with any other hostname; said here, it is said once instead of on every reconnect. */
export function hostnameOf(hostname: string): string {
  if (!isHostname(hostname)) throw invalidArgument("invalid --hostname", `${quoteForMessage(hostname)} is not an RFC 1123 hostname`);
  return hostname;
}

function runtimeOf(flags: { runtime: string } & DockerFlags): ContainerRuntime {
  return parseChoice("runtime", flags.runtime, RUNTIMES) === "noop" ? new NoopRuntime() : dockerRuntimeOf(flags);
}

type DockerFlags = { "docker-socket"?: string; "output-limit": string };

/** The Docker runtime as --docker-socket and --output-limit describe it; `dev` runs one too. */
export function dockerRuntimeOf(flags: DockerFlags): DockerRuntime {
  return new DockerRuntime({ socketPath: flags["docker-socket"], outputLimitBytes: parsePositiveInt("output-limit", flags["output-limit"]) });
}
