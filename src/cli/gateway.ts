import { READY_WHEN, startGateway } from "../../gateway/index.js";
import { checkFlags, formatDuration, parseChoice, parseDuration, parseHostPort, parseRouterAddresses } from "../config/index.js";
import { DEFAULT_GRPC_ADDRESS, DEFAULT_REQUEST_TIMEOUT_MS } from "../contract/index.js";
import { createLogger } from "../log/index.js";
import { defineCommand, stopOnSignals } from "./command.js";
import { listenOn } from "./listen-flag.js";
import { TLS_FIX, warnIfPlaintextOffLoopback } from "./plaintext-warning.js";
import { jwtFlags, metricsFlag, metricsListenOf, oldListenFlag, restListenFlag, startMetrics, verifierFactoryOf } from "./shared-flags.js";
import { httpsOptionsOf, routerDialCredentialsOf, routerDialTlsFlags, servingTlsFlags } from "./tls-flags.js";

export const gatewayCommand = defineCommand({
  usage: "--rest-listen HOST:PORT --router HOST:PORT[,HOST:PORT…] --jwt-secret SECRET",
  flags: {
    ...restListenFlag,
    ...oldListenFlag("rest-listen"),
    router: {
      type: "string",
      default: DEFAULT_GRPC_ADDRESS,
      description:
        "the router's gRPC address; in a mesh, several comma separated (or one DNS name resolving to several): calls are spread over them, and one goes to another router only when it never reached the first",
    },
    "ready-when": {
      type: "string",
      default: "agent-connected",
      description:
        "what GET /ready waits for: agent-connected (the router is reachable and ready for execs: see the router's --ready-min-agents and --ready-settle) or router-reachable",
    },
    "router-token": {
      type: "string",
      description:
        "the edge's own token, with the scope audit:record (meshexec token --scope audit:record): the router then audits the requests the edge refuses itself and believes the client addresses the edge forwards; it cannot run anything",
    },
    "request-timeout": {
      type: "string",
      default: formatDuration(DEFAULT_REQUEST_TIMEOUT_MS),
      description: "a request whose headers and body have not all arrived by then is answered 408 and its connection closed",
    },
    ...servingTlsFlags,
    ...routerDialTlsFlags("router-"),
    ...jwtFlags,
    ...metricsFlag,
  },
  async run(flags) {
    // Every flag is read and checked here, before anything listens: all bad ones at once.
    const config = checkFlags({
      rest: () => parseHostPort("rest-listen", flags["rest-listen"]),
      router: () => parseRouterAddresses("router", flags.router),
      readyWhen: () => parseChoice("ready-when", flags["ready-when"], READY_WHEN),
      // The edge keeps no revocations: a revoked token passes here and is refused by the router.
      verifier: () => verifierFactoryOf(flags)(),
      requestTimeoutMs: () => parseDuration("request-timeout", flags["request-timeout"]),
      https: () => httpsOptionsOf(flags),
      routerCredentials: () => routerDialCredentialsOf("router-", flags),
      metricsListen: () => metricsListenOf(flags),
    });
    const { host, port } = config.rest;
    const log = createLogger("gateway");
    if (!config.https) warnIfPlaintextOffLoopback(log, { what: "the REST API", host, listenFlag: "rest-listen", fix: TLS_FIX });
    const metrics = await startMetrics(config.metricsListen, log);
    const gateway = await listenOn("rest-listen", () =>
      startGateway({
        host,
        port,
        router: flags.router,
        routerCredentials: config.routerCredentials,
        routerToken: flags["router-token"],
        requestTimeoutMs: config.requestTimeoutMs,
        https: config.https,
        verifier: config.verifier,
        log,
        readyWhen: config.readyWhen,
        metrics: metrics.registry,
      }),
    );
    stopOnSignals(async () => {
      await gateway.stop();
      await metrics.close();
    });
  },
});
