import { parseHostPort } from "../config/index.js";
import { startGateway } from "../../gateway/index.js";
import { invalidArgument } from "../errors/index.js";
import { createLogger } from "../log/index.js";
import { defineCommand, stopOnSignals } from "./command.js";
import { jwtFlags, metricsFlag, startMetrics, verifierFactoryOf } from "./shared-flags.js";
import { httpsOptionsOf, routerDialCredentialsOf, routerDialTlsFlags, servingTlsFlags } from "./tls-flags.js";

export const gatewayCommand = defineCommand({
  usage: "--listen HOST:PORT --router HOST:PORT --jwt-secret SECRET",
  flags: {
    listen: { type: "string", default: "127.0.0.1:8080", description: "HTTP address to listen on (port 0: any free port)" },
    router: { type: "string", default: "127.0.0.1:50051", description: "the router's gRPC address" },
    "ready-when": {
      type: "string",
      default: "agent-connected",
      description: "what GET /ready waits for: agent-connected (the router is reachable and has an agent) or router-reachable",
    },
    ...servingTlsFlags,
    ...routerDialTlsFlags("router-"),
    ...jwtFlags,
    ...metricsFlag,
  },
  async run(flags) {
    const { host, port } = parseHostPort("listen", flags.listen);
    parseHostPort("router", flags.router);
    const readyWhen = flags["ready-when"];
    if (readyWhen !== "agent-connected" && readyWhen !== "router-reachable") {
      throw invalidArgument("invalid --ready-when", `expected agent-connected or router-reachable, got "${readyWhen}"`);
    }
    // The edge keeps no revocations: a revoked token passes here and is refused by the router.
    const verifier = verifierFactoryOf(flags)();
    const https = httpsOptionsOf(flags);
    const routerCredentials = routerDialCredentialsOf("router-", flags);
    const log = createLogger("gateway");
    const metrics = await startMetrics(flags["metrics-listen"], log);
    const gateway = await startGateway({ host, port, router: flags.router, routerCredentials, https, verifier, log, readyWhen, metrics: metrics.registry });
    stopOnSignals(async () => {
      await gateway.stop(10_000);
      await metrics.close();
    });
  },
});
