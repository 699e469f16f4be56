import { serve, type ServerType } from "@hono/node-server";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { TokenVerifier } from "../src/auth/index.js";
import { DEFAULT_REQUEST_TIMEOUT_MS } from "../src/contract/index.js";
import { listenErrorOf } from "../src/errors/index.js";
import type { Logger } from "../src/log/index.js";
import { createMetricsRegistry, type Registry } from "../src/metrics/index.js";
import type { DialCredentials } from "../src/tls/index.js";
import { createGatewayApp } from "./app.js";
import { answerClientError } from "./client-error.js";
import { parseRouterAddresses, resolveRouterAddresses } from "../src/config/index.js";
import { GrpcRouterClient } from "./grpc-router-client.js";
import type { ReadyWhen } from "./routes/health.js";

export interface GatewayOptions {
  host: string;
  port: number;
  /** HOST:PORT of the router, or several comma separated (or one DNS name resolving to several): calls are spread over them. */
  router: string;
  /** TLS or mTLS to the router; plaintext h2c when unset. */
  routerCredentials?: DialCredentials;
  /** Serve HTTPS with this certificate chain and key; plain HTTP when unset. */
  https?: { cert: Buffer; key: Buffer };
  verifier: TokenVerifier;
  log: Logger;
  readyWhen?: ReadyWhen;
  /** Where the edge's HTTP metrics go. */
  metrics?: Registry;
  /** The edge's own token (scope audit:record): its refusals are audited, and the router believes its x-forwarded-for. */
  routerToken?: string;
  /** A request whose headers and body have not all arrived by then is answered 408 and closed. */
  requestTimeoutMs?: number;
}

export interface RunningGateway {
  port: number;
  /** Stops accepting connections and waits (up to graceMs) for requests in flight. */
  stop(graceMs?: number): Promise<void>;
}

/** How long requests in flight may take to finish when the edge stops: a waiting exec's own limit is longer, and is cut. */
const STOP_GRACE_MS = 10_000;

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const routers = await resolveRouterAddresses(parseRouterAddresses("router", options.router));
  const router = new GrpcRouterClient(routers, options.routerCredentials, options.routerToken);
  if (!options.routerToken) {
    options.log.warn(
      "no --router-token: the router refuses the edge's reports, so requests the edge refuses itself are not audited, and the router records the edge's address instead of the client's",
    );
  }
  const app = createGatewayApp({
    router,
    verifier: options.verifier,
    log: options.log,
    readyWhen: options.readyWhen,
    metrics: options.metrics ?? createMetricsRegistry(),
  });
  const server: ServerType = await new Promise((resolve, reject) => {
    const serverOptions = { ...options.https, ...requestTimeouts(options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS) };
    const https = options.https ? { createServer: createHttpsServer } : {};
    // Node itself drains an unread body after an early answer; see middleware/finish-unread-body.ts.
    const s = serve({ fetch: app.fetch, hostname: options.host, port: options.port, autoCleanupIncoming: false, serverOptions, ...https }, () => resolve(s));
    // Without a listener, a busy port is an unhandled 'error' event: a stack trace, not a message.
    s.once("error", (err) => {
      router.close();
      reject(listenErrorOf(`${formatHost(options.host)}:${options.port}`, err));
    });
  });
  server.on("clientError", answerClientError);
  const port = (server.address() as AddressInfo).port;
  options.log.info({ address: `${options.host}:${port}`, port, scheme: options.https ? "https" : "http", router: options.router }, "gateway listening");
  return {
    port,
    async stop(graceMs = STOP_GRACE_MS) {
      await new Promise<void>((resolve) => {
        // Keep-alive connections go idle one by one as their last response is sent; close
        // each as it does instead of waiting out the keep-alive timeout.
        const sweep = setInterval(() => "closeIdleConnections" in server && server.closeIdleConnections(), 50);
        const done = () => {
          clearTimeout(force);
          clearInterval(sweep);
          resolve();
        };
        const force = setTimeout(() => {
          if ("closeAllConnections" in server) server.closeAllConnections();
          done();
        }, graceMs);
        server.close(done);
      });
      router.close();
    },
  };
}

/**
 * Node answers a request whose headers or body are not all in after these with 408 (through
 * answerClientError), so a client that opens requests and sends them slowly holds a socket and
 * a pending body for at most that long. Node checks every connectionsCheckingInterval (30 s by
 * default, which would double a 30 s limit), so it checks every second here; its default
 * requestTimeout is 300 s. 30 s is enough for the largest body (3 MiB) at 105 KB/s; a slower client
 * sending that much needs a longer --request-timeout.
 * Headers get at most 10 s: they are a few KiB.
 */
function requestTimeouts(requestTimeoutMs: number) {
  return {
    requestTimeout: requestTimeoutMs,
    headersTimeout: Math.min(10_000, requestTimeoutMs),
    connectionsCheckingInterval: Math.min(1_000, requestTimeoutMs),
  };
}

function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
