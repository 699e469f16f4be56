import { createConnection, createServer, type Server, type Socket } from "node:net";
import { rmSync } from "node:fs";
import { once } from "node:events";
import { Transform } from "node:stream";

/**
 * A unix socket that forwards to the real Docker engine and can be taken down and brought
 * back, so one agent can lose "its" engine while the shared engine keeps serving everyone else.
 * It can also hide containers: agents sharing one engine then see different containers, as
 * agents on different nodes do.
 */
export class DockerSocketProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly path: string,
    private readonly target = "/var/run/docker.sock",
    /** Containers, by name, that this engine answers "No such container" for. */
    private readonly hiddenContainers: readonly string[] = [],
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
      (this.hiddenContainers.length > 0 ? client.pipe(renaming(this.hiddenContainers)) : client).pipe(engine).pipe(client);
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
 * Points every request path naming one of these containers at a name no container has, so the
 * engine itself answers 404. Each request head arrives in one chunk (Node's HTTP client writes it
 * at once), so a name is never split across chunks. latin1 maps every byte to one character and
 * back, so the bytes around the names pass unchanged.
 */
function renaming(names: readonly string[]): Transform {
  const inPath = new RegExp(`(/containers/)(${names.map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})(?=[/?\\s])`, "g");
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      done(null, Buffer.from(chunk.toString("latin1").replace(inPath, "$1$2-not-on-this-node"), "latin1"));
    },
  });
}
