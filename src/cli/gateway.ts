import { parseDuration, parseHostPort, parseRouterAddresses } from "../config/index.js";
import { startGateway } from "../../gateway/index.js";
import { DEFAULT_REQUEST_TIMEOUT_MS } from "../contract/index.js";
import { invalidArgument } from "../errors/index.js";
import { createLogger } from "../log/index.js";
import { defineCommand, stopOnSignals } from "./command.js";
import { TLS_FIX, warnIfPlaintextOffLoopback } from "./plaintext-warning.js";
import { jwtFlags, metricsFlag, startMetrics, verifierFactoryOf } from "./shared-flags.js";
import { httpsOptionsOf, routerDialCredentialsOf, routerDialTlsFlags, servingTlsFlags } from "./tls-flags.js";

export const gatewayCommand = defineCommand({
  usage: "--listen HOST:PORT --router HOST:PORT[,HOST:PORT…] --jwt-secret SECRET",
  flags: {
    listen: { type: "string", default: "127.0.0.1:8080", description: "HTTP address to listen on (port 0: any free port)" },
    router: {
      type: "string",
      default: "127.0.0.1:50051",
      description:
        "the router's gRPC address; in a mesh, several comma separated (or one DNS name resolving to several): calls are spread over them, and one goes to another router only when it never reached the first",
    },
    "ready-when": {
      type: "string",
      default: "agent-connected",
      description: "what GET /ready waits for: agent-connected (the router is reachable and has an agent) or router-reachable",
    },
    "router-token": {
      type: "string",
      description:
        "the edge's own token, with the scope audit:record (meshexec token --scope audit:record): the router then audits the requests the edge refuses itself and believes the client addresses the edge forwards; it cannot run anything",
    },
    "request-timeout": {
      type: "string",
      default: `${DEFAULT_REQUEST_TIMEOUT_MS / 1000}s`,
      description: "a request whose headers and body have not all arrived by then is answered 408 and its connection closed",
    },
    ...servingTlsFlags,
    ...routerDialTlsFlags("router-"),
    ...jwtFlags,
    ...metricsFlag,
  },
  async run(flags) {
    const { host, port } = parseHostPort("listen", flags.listen);
    parseRouterAddresses("router", flags.router);
    const readyWhen = flags["ready-when"];
    if (readyWhen !== "agent-connected" && readyWhen !== "router-reachable") {
      throw invalidArgument("invalid --ready-when", `expected agent-connected or router-reachable, got "${readyWhen}"`);
    }
    // The edge keeps no revocations: a revoked token passes here and is refused by the router.
    const verifier = verifierFactoryOf(flags)();
    const requestTimeoutMs = parseDuration("request-timeout", flags["request-timeout"]);
    const https = httpsOptionsOf(flags);
    const routerCredentials = routerDialCredentialsOf("router-", flags);
    const log = createLogger("gateway");
    if (!https) warnIfPlaintextOffLoopback(log, { what: "the REST API", host, listenFlag: "listen", fix: TLS_FIX });
    const metrics = await startMetrics(flags["metrics-listen"], log);
    const gateway = await startGateway({
      host,
      port,
      router: flags.router,
      routerCredentials,
      routerToken: flags["router-token"],
      requestTimeoutMs,
      https,
      verifier,
      log,
      readyWhen,
      metrics: metrics.registry,
    });
    stopOnSignals(async () => {
      await gateway.stop(10_000);
      await metrics.close();
    });
  },
});
