import { GrpcCaller } from "./grpc-exec.js";
import { MeshexecProcess } from "./meshexec-process.js";
import { EDGE_SCOPE, TestStack, type AgentSpec } from "./test-stack.js";

export interface MeshAgentSpec extends AgentSpec {
  /** The router it dials first; the others follow in the stack's order. */
  home: string;
}

/**
 * Several real routers joined on NATS and sharing one PostgreSQL database, one edge configured
 * with all of them, and agents each dialling its home router first.
 */
export class MeshStack extends TestStack {
  readonly routers = new Map<string, { process: MeshexecProcess; port: number }>();
  private natsUrls: string[] = [];
  private databaseUrl = "";

  static async startMesh(natsUrls: string[], databaseUrl: string, routerNames: string[], agents: MeshAgentSpec[]): Promise<MeshStack> {
    const stack = new MeshStack();
    stack.natsUrls = natsUrls;
    stack.databaseUrl = databaseUrl;
    stack.adminToken = await stack.token();
    await Promise.all(routerNames.map((name) => stack.startMeshRouter(name)));
    const edgeToken = await stack.token([EDGE_SCOPE], 3_600_000, "edge");
    const addresses = routerNames.map((name) => stack.addressOf(name)).join(",");
    stack.gateway = MeshexecProcess.spawn("gateway", ["gateway", "--rest-listen", "127.0.0.1:0", "--router", addresses], {
      ...stack.secretEnv(),
      MESHEXEC_ROUTER_TOKEN: edgeToken,
    });
    stack.gatewayPort = await stack.gateway.listeningPort("gateway listening");
    await Promise.all(agents.map((spec) => stack.startAgent({ ...spec, router: stack.routerListFrom(spec.home, routerNames) })));
    return stack;
  }

  async startMeshRouter(name: string): Promise<MeshexecProcess> {
    const process = MeshexecProcess.spawn("router " + name, ["router", "--name", name, "--nats", this.natsUrls.join(","), "--grpc-listen", "127.0.0.1:0"], {
      ...this.secretEnv(),
      MESHEXEC_DATABASE_URL: this.databaseUrl,
    });
    const port = await process.listeningPort("router listening");
    this.routers.set(name, { process, port });
    this.router ??= process;
    return process;
  }

  addressOf(router: string): string {
    return `127.0.0.1:${this.routers.get(router)!.port}`;
  }

  /** A gRPC caller of one router, so a spec chooses which router coordinates a call. */
  callerOf(router: string): GrpcCaller {
    return new GrpcCaller(this.addressOf(router));
  }

  /** Who holds each agent, as GET /agents says. */
  async holders(): Promise<Record<string, string>> {
    const reply = await this.request("GET", "/agents", { token: this.adminToken });
    if (reply.status !== 200) return {};
    return Object.fromEntries(reply.body.agents.map((agent: { hostname: string; router: string }) => [agent.hostname, agent.router]));
  }

  override get processes(): MeshexecProcess[] {
    return [...[...this.routers.values()].map((r) => r.process), ...super.processes.filter((p) => p !== this.router)];
  }

  private routerListFrom(home: string, names: string[]): string {
    const start = names.indexOf(home);
    return [...names.slice(start), ...names.slice(0, start)].map((name) => this.addressOf(name)).join(",");
  }
}
