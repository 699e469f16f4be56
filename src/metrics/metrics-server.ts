import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { listenErrorOf } from "../errors/listen-error.js";
import type { Logger } from "../log/index.js";
import type { Registry } from "./metrics-registry.js";

export interface RunningMetricsServer {
  port: number;
  close(): Promise<void>;
}

/** Serves Prometheus text at GET /metrics on its own port (--metrics-listen), apart from the API. */
export async function serveMetrics(host: string, port: number, registry: Registry, log: Logger): Promise<RunningMetricsServer> {
  const server = createServer(async (req, res) => {
    if (req.method !== "GET" || req.url?.split("?")[0] !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("only GET /metrics is served here\n");
      return;
    }
    res.writeHead(200, { "content-type": registry.contentType }).end(await registry.metrics());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) => reject(listenErrorOf(`${host}:${port}`, err)));
    server.listen(port, host, resolve);
  });
  const bound = (server.address() as AddressInfo).port;
  log.info({ address: `${host}:${bound}`, port: bound }, "metrics listening");
  return { port: bound, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
