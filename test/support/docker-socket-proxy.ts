import { createConnection, createServer, type Server, type Socket } from "node:net";
import { rmSync } from "node:fs";
import { once } from "node:events";

/**
 * A unix socket that forwards to the real Docker engine and can be taken down and brought
 * back, so one agent can lose "its" engine while the shared engine keeps serving everyone else.
 */
export class DockerSocketProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly path: string,
    private readonly target = "/var/run/docker.sock",
  ) {}

  async up(): Promise<void> {
    rmSync(this.path, { force: true });
    this.server = createServer((client) => {
      const engine = createConnection(this.target);
      for (const s of [client, engine]) {
        this.sockets.add(s);
        s.on("close", () => this.sockets.delete(s));
        s.on("error", () => s.destroy());
      }
      client.pipe(engine).pipe(client);
    });
    this.server.listen(this.path);
    await once(this.server, "listening");
  }

  /** Refuses new connections and cuts the open ones, as a stopped engine would. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.sockets.forEach((s) => s.destroy());
    if (server) await new Promise((resolve) => server.close(resolve));
    rmSync(this.path, { force: true });
  }
}
