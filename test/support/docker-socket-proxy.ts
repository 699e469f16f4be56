import { createConnection, createServer, type Server, type Socket } from "node:net";
import { rmSync } from "node:fs";
import { once } from "node:events";
import { Transform } from "node:stream";

/** Makes one container name mean another on this proxy's node: `/containers/<from>/…` is sent to the engine as `/containers/<to>/…`. */
export interface ContainerAlias {
  from: string;
  to: string;
}

/**
 * A unix socket that forwards to the real Docker engine and can be taken down and brought
 * back, so one agent can lose "its" engine while the shared engine keeps serving everyone else.
 * With an alias, one agent's node resolves a container name differently from the others', as
 * separate engines would.
 */
export class DockerSocketProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly path: string,
    private readonly target = "/var/run/docker.sock",
    private readonly alias?: ContainerAlias,
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
      const requests = this.alias ? client.pipe(aliasing(this.alias)) : client;
      requests.pipe(engine).pipe(client);
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

/**
 * Rewrites the container in each request line. Node writes a request's line and headers in one
 * chunk, so the path is never split across two.
 */
function aliasing({ from, to }: ContainerAlias): Transform {
  const fromPath = `/containers/${from}/`;
  const toPath = `/containers/${to}/`;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const text = chunk.toString("latin1");
      done(null, text.includes(fromPath) ? Buffer.from(text.replaceAll(fromPath, toPath), "latin1") : chunk);
    },
  });
}
