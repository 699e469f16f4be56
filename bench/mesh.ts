import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { loadSigningKey, mintToken } from "../src/auth/index.js";
import { BenchChild } from "./child.js";

const CLI = new URL("../src/cli/main.js", import.meta.url).pathname;

/**
 * Real `meshexec` processes from dist/, on free loopback ports, sharing a fresh JWT secret and
 * join token (the router runs with --insecure-join-token). Logs stay at info, as in production:
 * the router's one `exec` line per call is part of what a call costs.
 */
export class Mesh {
  readonly secret = randomBytes(24).toString("base64url");
  readonly joinToken = randomBytes(24).toString("base64url");

  constructor(readonly cpuProfileDir?: string) {}

  /** `listenHost` 0.0.0.0 lets agents dial distinct loopback addresses, so each gets its own connection. */
  async router(name = "router", listenHost = "127.0.0.1", extraArgs: string[] = []): Promise<{ process: BenchChild; port: number; metricsPort: number }> {
    // A store of its own per router, so the bench's jobs never land in ./data beside an operator's.
    const dataDir = mkdtempSync(join(tmpdir(), "meshexec-bench-"));
    // One subject makes every call here: the per-subject limits are off, so the bench measures the mesh, not them.
    const unlimited = ["--rate-limit", "0", "--max-concurrent-execs", "0"];
    const child = this.meshexec(
      name,
      ["router", "--grpc-listen", `${listenHost}:0`, "--data-dir", dataDir, "--metrics-listen", "127.0.0.1:0", ...unlimited, ...extraArgs],
      {
        MESHEXEC_JWT_SECRET: this.secret,
        // 1,000 agents share one join token: minting a token per agent is not what the bench measures.
        MESHEXEC_INSECURE_JOIN_TOKEN: this.joinToken,
      },
    );
    const port = Number((await child.waitForLine("router listening")).port);
    return { process: child, port, metricsPort: Number((await child.waitForLine("metrics listening")).port) };
  }

  async gateway(routerPort: number): Promise<{ process: BenchChild; url: string }> {
    const child = this.meshexec("gateway", ["gateway", "--rest-listen", "127.0.0.1:0", "--router", `127.0.0.1:${routerPort}`], {
      MESHEXEC_JWT_SECRET: this.secret,
    });
    return { process: child, url: `http://127.0.0.1:${(await child.waitForLine("gateway listening")).port}` };
  }

  /** A router joined to the mesh on NATS under this --name, its jobs and audit in the PostgreSQL at databaseUrl. */
  async meshRouter(
    name: string,
    natsUrl: string,
    databaseUrl: string,
    listenHost = "127.0.0.1",
  ): Promise<{ process: BenchChild; port: number; metricsPort: number }> {
    return this.router(`router-${name}`, listenHost, ["--name", name, "--nats", natsUrl, "--database-url", databaseUrl]);
  }

  async agent(routerPort: number, hostname: string, runtime: "docker" | "noop", extraArgs: string[] = []): Promise<BenchChild> {
    const child = this.meshexec(
      `agent-${hostname}`,
      ["agent", "--router", `127.0.0.1:${routerPort}`, "--hostname", hostname, "--runtime", runtime, ...extraArgs],
      {
        MESHEXEC_AGENT_TOKEN: this.joinToken,
      },
    );
    await child.waitForLine("connected to router");
    return child;
  }

  /** A caller token for execs, valid for the whole run. */
  token(): Promise<string> {
    return mintToken(loadSigningKey({ secret: this.secret }), { subject: "bench", scopes: ["docker:execute", "agent:read"], ttlMs: 3_600_000 });
  }

  private meshexec(name: string, args: string[], env: Record<string, string>): BenchChild {
    return BenchChild.start(name, CLI, args, { env, cpuProfileDir: this.cpuProfileDir });
  }
}
