import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const READY_WITHIN_MS = 10_000;

/** A port nobody listens on now (the OS picked it); good enough for a child started right after. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * One real nats-server with JetStream, on loopback, its store in a fresh directory: the bench's
 * mesh of routers, and the tests' (test/support/nats-server.ts re-exports it).
 */
export class NatsServer {
  private child?: ChildProcess;
  output = "";

  private constructor(
    readonly name: string,
    readonly port: number,
    private readonly args: string[],
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** A single node: `nats-server -js -sd DIR -a 127.0.0.1 -p PORT`. */
  static async start(): Promise<NatsServer> {
    const port = await freePort();
    const server = new NatsServer("nats", port, ["-js", "-sd", mkdtempSync(join(tmpdir(), "meshexec-nats-")), "-a", "127.0.0.1", "-p", String(port)]);
    await server.run();
    return server;
  }

  /** (Re)starts the process with its arguments and waits until it takes connections. */
  async run(): Promise<void> {
    this.output = "";
    this.child = spawn("nats-server", this.args, { stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout!.on("data", (chunk) => (this.output += chunk));
    this.child.stderr!.on("data", (chunk) => (this.output += chunk));
    const child = this.child;
    const deadline = Date.now() + READY_WITHIN_MS;
    while (!/Server is ready/.test(this.output)) {
      if (child.exitCode !== null) throw new Error(`${this.name} exited: ${this.output}`);
      if (Date.now() > deadline) throw new Error(`${this.name} not ready within ${READY_WITHIN_MS} ms: ${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await once(child, "exit");
  }

  /** Three nodes in one cluster with JetStream (`--cluster`, `--routes`, `--cluster_name`), for failover specs. */
  static async cluster(): Promise<NatsServer[]> {
    const ports = await Promise.all([0, 1, 2].map(async () => ({ client: await freePort(), cluster: await freePort() })));
    const routes = ports.map((p) => `nats://127.0.0.1:${p.cluster}`).join(",");
    const nodes = ports.map(
      (p, i) =>
        new NatsServer(`nats-${i}`, p.client, [
          "-js",
          "-sd",
          mkdtempSync(join(tmpdir(), `meshexec-nats-${i}-`)),
          "-a",
          "127.0.0.1",
          "-p",
          String(p.client),
          "-n",
          `nats-${i}`,
          "--cluster_name",
          "meshexec-test",
          "--cluster",
          `nats://127.0.0.1:${p.cluster}`,
          "--routes",
          routes,
        ]),
    );
    await Promise.all(nodes.map((node) => node.run()));
    return nodes;
  }
}
