import { parseDuration, parseHostPort } from "../config/index.js";
import { invalidArgument } from "../errors/index.js";
import { createLogger } from "../log/index.js";
import { startRouter } from "../router/index.js";
import { openSqliteStores } from "../store/index.js";
import { defineCommand, stopOnSignals } from "./command.js";
import { drainFlag, jwtFlags, keepaliveFlag, storeFlags, verifierOf } from "./shared-flags.js";

export const routerCommand = defineCommand({
  summary: "Serves the gRPC API to callers and holds the agents' streams.",
  usage: "--listen HOST:PORT --agent-token TOKEN --jwt-secret SECRET",
  flags: {
    listen: { type: "string", default: "127.0.0.1:50051", description: "gRPC address to listen on (port 0: any free port)" },
    "agent-token": { type: "string", description: "join token agents must present (required)" },
    ...jwtFlags,
    ...storeFlags,
    ...keepaliveFlag,
    ...drainFlag,
  },
  async run(flags) {
    if (!flags["agent-token"]) throw invalidArgument("missing --agent-token", "set --agent-token or MESHEXEC_AGENT_TOKEN");
    const { host, port } = parseHostPort("listen", flags.listen);
    const stores = openSqliteStores(flags["data-dir"]);
    const router = await startRouter({
      host,
      port,
      verifier: verifierOf(flags),
      joinToken: flags["agent-token"],
      stores,
      jobTtlMs: parseDuration("job-ttl", flags["job-ttl"]),
      keepaliveMs: parseDuration("keepalive", flags.keepalive),
      log: createLogger("router"),
    });
    stopOnSignals(async () => {
      await router.stop(parseDuration("drain-timeout", flags["drain-timeout"]));
      stores.close();
    });
  },
});
