import { Agent, request } from "node:http";

export interface RestExecReply {
  status: number;
  body: { results?: Array<{ status: string; stdout: string; exit_code?: number; duration_ms: number }>; error?: string; details?: string };
}

/** A REST client of the edge over kept-alive connections, at most maxSockets of them, as a load balancer would hold. */
export class RestCaller {
  private readonly agent: Agent;
  private readonly url: URL;

  constructor(
    baseUrl: string,
    private readonly token: string,
    maxSockets = 1,
  ) {
    this.url = new URL(baseUrl);
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  exec(target: string, containerId: string, command: string[]): Promise<RestExecReply> {
    const body = JSON.stringify({ command });
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.url.hostname,
          port: this.url.port,
          method: "POST",
          path: `/node/${encodeURIComponent(target)}/container/docker/${encodeURIComponent(containerId)}/exec`,
          headers: { authorization: `Bearer ${this.token}`, "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) }));
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
