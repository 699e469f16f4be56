import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSigningKey, mintAgentToken, mintToken, requiredScopeByMethod, type SigningKey } from "../../src/auth/index.js";
import { MeshexecProcess } from "./meshexec-process.js";
import { waitFor } from "./wait-for.js";

export interface AgentSpec {
  hostname: string;
  /** Its --router: the stack's router (or proxy) when unset. */
  router?: string;
  labels?: Record<string, string>;
  args?: string[];
}

/** What an agent presents: by default a token minted for its own hostname and labels; null for none (its client certificate). */
export interface AgentCredentialOption {
  token?: string | null;
}

export interface HttpReply {
  status: number;
  headers: Headers;
  body: any;
}

export const ALL_SCOPES = ["docker:execute", "agent:read", "job:read", "audit:read"];
/** The edge's own scope: the stack's edge gets a token with it (--router-token). */
export const EDGE_SCOPE = requiredScopeByMethod.RecordEdgeRefusal;

/** How the router and the edge check tokens, when not with the stack's own HS256 secret alone. */
export interface StackAuth {
  /** Flags for both the router and the edge, e.g. ["--jwt-public-key", file] or ["--jwt-audience", "meshexec"]. */
  args: string[];
  /** Signs the stack's own tokens; when set, the HS256 secret is configured nowhere (args must name a key). */
  signingKey?: SigningKey;
  /** Put into the stack's own tokens, to match --jwt-issuer / --jwt-audience in args. */
  issuer?: string;
  audience?: string;
}

export interface StackOptions {
  routerArgs?: string[];
  gatewayArgs?: string[];
  auth?: StackAuth;
  /** Where the edge and the agents dial, given where the router listens: e.g. a proxy started in front of it. */
  routerAddressForClients?: (routerAddress: string) => string | Promise<string>;
  /** Start the edge without its own token (--router-token), as an operator who never minted one would. */
  withoutEdgeToken?: boolean;
  /** The HS256 secret, for stacks whose routers must accept each other's tokens (several routers on one database). */
  secret?: string;
}

/**
 * A real router, edge and agents, each a child process on free loopback ports, with a fresh
 * JWT secret. Each agent presents a token of its own, for its hostname and labels.
 */
export class TestStack {
  readonly secret: string;
  /** Every agent token the stack minted, so a spec can check none is logged. */
  readonly agentTokens: string[] = [];
  /** The router's job store and audit log; kept across router restarts within the stack. */
  readonly dataDir = mkdtempSync(join(tmpdir(), "meshexec-data-"));
  readonly agents = new Map<string, MeshexecProcess>();
  router!: MeshexecProcess;
  gateway!: MeshexecProcess;
  routerPort = 0;
  gatewayPort = 0;
  protected adminToken = "";
  protected auth: StackAuth = { args: [] };
  private proxiedRouterAddress?: string;
  /** Agents started with spawnAgent, which may share a hostname or be refused. */
  private readonly extraAgents: MeshexecProcess[] = [];

  constructor(secret?: string) {
    this.secret = secret ?? randomBytes(24).toString("base64url");
  }

  static async start(agents: AgentSpec[], options: StackOptions = {}): Promise<TestStack> {
    const stack = new TestStack(options.secret);
    stack.auth = options.auth ?? stack.auth;
    stack.adminToken = await stack.token();
    await stack.startRouter(0, options.routerArgs);
    stack.proxiedRouterAddress = await options.routerAddressForClients?.(stack.routerAddress);
    const edgeToken: Record<string, string> = options.withoutEdgeToken ? {} : { MESHEXEC_ROUTER_TOKEN: await stack.token([EDGE_SCOPE], 3_600_000, "edge") };
    stack.gateway = MeshexecProcess.spawn(
      "gateway",
      ["gateway", "--rest-listen", "127.0.0.1:0", "--router", stack.routerAddressForClients, ...stack.auth.args, ...(options.gatewayArgs ?? [])],
      { ...stack.secretEnv(), ...edgeToken },
    );
    stack.gatewayPort = await stack.gateway.listeningPort("gateway listening");
    await Promise.all(agents.map((spec) => stack.startAgent(spec)));
    return stack;
  }

  get routerAddress(): string {
    return `127.0.0.1:${this.routerPort}`;
  }

  /** Where the edge and the agents dial: the router itself, unless the stack was started with a proxy in between. */
  get routerAddressForClients(): string {
    return this.proxiedRouterAddress ?? this.routerAddress;
  }

  get gatewayUrl(): string {
    return `http://127.0.0.1:${this.gatewayPort}`;
  }

  /** Starts the router; port 0 picks a free one, a known port restarts it where it was. */
  async startRouter(port = this.routerPort, args: string[] = []): Promise<MeshexecProcess> {
    this.router = MeshexecProcess.spawn(
      "router",
      ["router", "--grpc-listen", `127.0.0.1:${port}`, "--data-dir", this.dataDir, ...this.auth.args, ...args],
      this.secretEnv(),
    );
    this.routerPort = await this.router.listeningPort("router listening");
    return this.router;
  }

  /** Starts an agent process and waits until the router lists it. */
  async startAgent(spec: AgentSpec, options: AgentCredentialOption = {}): Promise<MeshexecProcess> {
    const agent = await this.agentProcess(spec, options);
    this.agents.set(spec.hostname, agent);
    await this.waitForAgents([spec.hostname]);
    return agent;
  }

  /**
   * Starts an agent process without waiting for it to connect, for agents the router should
   * refuse (another host's token, a hostname already taken). stop() stops it too.
   */
  async spawnAgent(spec: AgentSpec, options: AgentCredentialOption = {}): Promise<MeshexecProcess> {
    const agent = await this.agentProcess(spec, options);
    this.extraAgents.push(agent);
    return agent;
  }

  /** A per-agent token, as `meshexec token --agent` mints it, for this hostname and these labels. */
  async agentToken(hostname: string, labels: Record<string, string> = {}, ttlMs = 3_600_000): Promise<string> {
    const key = this.auth.signingKey ?? loadSigningKey({ secret: this.secret });
    const token = await mintAgentToken(key, { hostname, labels, ttlMs, issuer: this.auth.issuer, audience: this.auth.audience });
    this.agentTokens.push(token);
    return token;
  }

  protected async agentProcess(spec: AgentSpec, options: AgentCredentialOption): Promise<MeshexecProcess> {
    const labelArgs = Object.entries(spec.labels ?? {}).flatMap(([k, v]) => ["--label", `${k}=${v}`]);
    const token = options.token === undefined ? await this.agentToken(spec.hostname, spec.labels) : options.token;
    return MeshexecProcess.spawn(
      `agent ${spec.hostname}`,
      ["agent", "--router", spec.router ?? this.routerAddressForClients, "--hostname", spec.hostname, ...labelArgs, ...(spec.args ?? [])],
      token === null ? {} : { MESHEXEC_AGENT_TOKEN: token },
    );
  }

  /** Every process the stack started, in no particular order. */
  get processes(): MeshexecProcess[] {
    return [this.router, this.gateway, ...this.agents.values(), ...this.extraAgents].filter(Boolean);
  }

  protected secretEnv(): Record<string, string> {
    return this.auth.signingKey ? {} : { MESHEXEC_JWT_SECRET: this.secret };
  }

  async connectedAgents(): Promise<string[]> {
    const reply = await this.request("GET", "/agents", { token: this.adminToken });
    return reply.status === 200 ? reply.body.agents.map((a: { hostname: string }) => a.hostname) : [];
  }

  waitForAgents(hostnames: string[], timeoutMs = 10_000): Promise<string[]> {
    return waitFor(
      `agents ${hostnames.join(", ")} to be connected`,
      async () => {
        const connected = await this.connectedAgents();
        return hostnames.every((h) => connected.includes(h)) && connected;
      },
      timeoutMs,
    );
  }

  token(scopes = ALL_SCOPES, ttlMs = 3_600_000, subject = "test"): Promise<string> {
    const key = this.auth.signingKey ?? loadSigningKey({ secret: this.secret });
    return mintToken(key, { subject, scopes, ttlMs, issuer: this.auth.issuer, audience: this.auth.audience });
  }

  /** POST …/exec with a good token unless told otherwise. */
  async exec(
    target: string,
    container: string,
    body: unknown,
    options: { token?: string; query?: string; headers?: Record<string, string> } = {},
  ): Promise<HttpReply> {
    const path = `/node/${encodeURIComponent(target)}/container/docker/${encodeURIComponent(container)}/exec${options.query ? `?${options.query}` : ""}`;
    return this.request("POST", path, { token: options.token ?? this.adminToken, json: body, headers: options.headers });
  }

  async request(
    method: string,
    path: string,
    options: { token?: string; json?: unknown; headers?: Record<string, string>; body?: string } = {},
  ): Promise<HttpReply> {
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
    await Promise.all(this.processes.map((p) => p.stop("SIGKILL")));
  }
}
