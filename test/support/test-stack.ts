import { randomBytes } from "node:crypto";
import { loadSigningKey, mintToken } from "../../src/auth/index.js";
import { MeshexecProcess } from "./meshexec-process.js";
import { waitFor } from "./wait-for.js";

export interface AgentSpec {
  hostname: string;
  labels?: Record<string, string>;
  args?: string[];
}

export interface HttpReply {
  status: number;
  headers: Headers;
  body: any;
}

export const ALL_SCOPES = ["docker:execute", "agent:read"];

/**
 * A real router, edge and agents, each a child process on free loopback ports, with a fresh
 * JWT secret and join token.
 */
export class TestStack {
  readonly secret = randomBytes(24).toString("base64url");
  readonly joinToken = randomBytes(24).toString("base64url");
  readonly agents = new Map<string, MeshexecProcess>();
  router!: MeshexecProcess;
  gateway!: MeshexecProcess;
  routerPort = 0;
  gatewayPort = 0;
  private adminToken = "";

  static async start(agents: AgentSpec[], options: { routerArgs?: string[] } = {}): Promise<TestStack> {
    const stack = new TestStack();
    stack.adminToken = await stack.token();
    await stack.startRouter(0, options.routerArgs);
    stack.gateway = MeshexecProcess.spawn("gateway", ["gateway", "--listen", "127.0.0.1:0", "--router", stack.routerAddress], {
      MESHEXEC_JWT_SECRET: stack.secret,
    });
    stack.gatewayPort = await stack.gateway.listeningPort("gateway listening");
    await Promise.all(agents.map((spec) => stack.startAgent(spec)));
    return stack;
  }

  get routerAddress(): string {
    return `127.0.0.1:${this.routerPort}`;
  }

  get gatewayUrl(): string {
    return `http://127.0.0.1:${this.gatewayPort}`;
  }

  /** Starts the router; port 0 picks a free one, a known port restarts it where it was. */
  async startRouter(port = this.routerPort, args: string[] = []): Promise<MeshexecProcess> {
    this.router = MeshexecProcess.spawn("router", ["router", "--listen", `127.0.0.1:${port}`, ...args], {
      MESHEXEC_JWT_SECRET: this.secret,
      MESHEXEC_AGENT_TOKEN: this.joinToken,
    });
    this.routerPort = await this.router.listeningPort("router listening");
    return this.router;
  }

  /** Starts an agent process and waits until the router lists it. */
  async startAgent(spec: AgentSpec): Promise<MeshexecProcess> {
    const labelArgs = Object.entries(spec.labels ?? {}).flatMap(([k, v]) => ["--label", `${k}=${v}`]);
    const agent = MeshexecProcess.spawn(
      `agent ${spec.hostname}`,
      ["agent", "--router", this.routerAddress, "--hostname", spec.hostname, ...labelArgs, ...(spec.args ?? [])],
      { MESHEXEC_AGENT_TOKEN: this.joinToken },
    );
    this.agents.set(spec.hostname, agent);
    await this.waitForAgents([spec.hostname]);
    return agent;
  }

  async connectedAgents(): Promise<string[]> {
    const reply = await this.request("GET", "/agents", { token: this.adminToken });
    return reply.status === 200 ? reply.body.agents.map((a: { hostname: string }) => a.hostname) : [];
  }

  waitForAgents(hostnames: string[], timeoutMs = 10_000): Promise<string[]> {
    return waitFor(`agents ${hostnames.join(", ")} to be connected`, async () => {
      const connected = await this.connectedAgents();
      return hostnames.every((h) => connected.includes(h)) && connected;
    }, timeoutMs);
  }

  token(scopes = ALL_SCOPES, ttlMs = 3_600_000): Promise<string> {
    return mintToken(loadSigningKey({ secret: this.secret }), { subject: "test", scopes, ttlMs });
  }

  /** POST …/exec with a good token unless told otherwise. */
  async exec(target: string, container: string, body: unknown, options: { token?: string } = {}): Promise<HttpReply> {
    const path = `/node/${encodeURIComponent(target)}/container/docker/${encodeURIComponent(container)}/exec`;
    return this.request("POST", path, { token: options.token ?? this.adminToken, json: body });
  }

  async request(method: string, path: string, options: { token?: string; json?: unknown; headers?: Record<string, string>; body?: string } = {}): Promise<HttpReply> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body = options.body;
    if (options.json !== undefined) {
      headers["content-type"] ??= "application/json";
      body = JSON.stringify(options.json);
    }
    const response = await fetch(this.gatewayUrl + path, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: the spec will say so when it looks.
    }
    return { status: response.status, headers: response.headers, body: parsed };
  }

  async stop(): Promise<void> {
    const all = [...this.agents.values(), this.gateway, this.router].filter(Boolean);
    await Promise.all(all.map((p) => p.stop("SIGKILL")));
  }
}
