import { hostname as osHostname } from "node:os";
import { Agent, DockerRuntime, NoopRuntime, type ContainerRuntime } from "../../agent/index.js";
import { parseDuration, parseLabels, parsePositiveInt, parseRouterAddresses } from "../config/index.js";
import { DEFAULT_OUTPUT_LIMIT_BYTES } from "../contract/index.js";
import { invalidArgument } from "../errors/index.js";
import { createLogger } from "../log/index.js";
import { MESHEXEC_VERSION } from "../version.js";
import { defineCommand, stopOnSignals } from "./command.js";
import { drainFlag, keepaliveFlag, metricsFlag, startMetrics } from "./shared-flags.js";
import { routerDialCredentialsOf, routerDialTlsFlags } from "./tls-flags.js";

export const agentFlags = {
  router: {
    type: "string",
    default: "127.0.0.1:50051",
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
  "max-in-flight": { type: "string", default: "32", description: "execs run at once" },
  "max-queued": { type: "string", default: "64", description: "execs queued behind those; past this they are refused" },
} as const;

export const agentCommand = defineCommand({
  usage: "--router HOST:PORT[,HOST:PORT…] --hostname NAME [--label key=value]… [--docker-socket PATH] --agent-token TOKEN (or --tls-cert FILE --tls-key FILE)",
  flags: {
    ...agentFlags,
    "agent-token": {
      type: "string",
      description: "this agent's own token, from meshexec token --agent HOSTNAME (required unless --tls-cert names the hostname to a router requiring client certificates)",
    },
    ...routerDialTlsFlags(""),
    ...metricsFlag,
    ...keepaliveFlag,
    ...drainFlag,
  },
  async run(flags) {
    if (!flags["agent-token"] && !flags["tls-cert"]) {
      throw invalidArgument("missing --agent-token", "set --agent-token (or MESHEXEC_AGENT_TOKEN) to this agent's token, or give --tls-cert and --tls-key");
    }
    const routers = parseRouterAddresses("router", flags.router);
    const routerCredentials = routerDialCredentialsOf("", flags);
    const log = createLogger("agent").child({ hostname: flags.hostname });
    const metrics = await startMetrics(flags["metrics-listen"], log);
    const agent = new Agent({
      routers,
      hostname: flags.hostname,
      labels: parseLabels(flags.label),
      token: flags["agent-token"],
      runtime: runtimeOf(flags),
      log,
      metrics: metrics.registry,
      version: MESHEXEC_VERSION,
      maxInFlight: parsePositiveInt("max-in-flight", flags["max-in-flight"]),
      maxQueued: parsePositiveInt("max-queued", flags["max-queued"]),
      keepaliveMs: parseDuration("keepalive", flags.keepalive),
      routerCredentials,
    }).start();
    stopOnSignals(async () => {
      await agent.drain(parseDuration("drain-timeout", flags["drain-timeout"]));
      await metrics.close();
    });
  },
});

function runtimeOf(flags: { runtime: string } & DockerFlags): ContainerRuntime {
  if (flags.runtime === "noop") return new NoopRuntime();
  if (flags.runtime !== "docker") throw invalidArgument("invalid --runtime", `expected docker or noop, got "${flags.runtime}"`);
  return dockerRuntimeOf(flags);
}

type DockerFlags = { "docker-socket"?: string; "output-limit": string };

/** The Docker runtime as --docker-socket and --output-limit describe it; `dev` runs one too. */
export function dockerRuntimeOf(flags: DockerFlags): DockerRuntime {
  return new DockerRuntime({ socketPath: flags["docker-socket"], outputLimitBytes: parsePositiveInt("output-limit", flags["output-limit"]) });
}
