import { GrpcStatus, MeshError } from "../errors/index.js";
import type { AgentInfo } from "../gen/meshexec/v1/exec.js";
import type { HostLink } from "./host-link.js";
import { compareHostnames, type AgentRegistry } from "./registry.js";
import { describeTarget, type Target } from "./target.js";

/** A host as listed: a link, with what ListAgents shows of it. */
export interface ListedHost extends HostLink {
  readonly version: string;
  readonly connectedSince: Date;
}

/** The agents other routers of the mesh hold, as this router's presence watch sees them. */
export interface RemoteHosts {
  /** Why the view of other routers' agents cannot be trusted now (NATS unreachable), or undefined when it can. */
  untrustedBecause(): string | undefined;
  get(hostname: string): ListedHost | undefined;
  list(): ListedHost[];
}

/**
 * The whole fleet, for target resolution and ListAgents: this router's own sessions (the
 * registry) and, in a mesh, the agents every other live router holds. A lone router's view is its
 * registry alone. A target that needs other routers' agents is refused (UNAVAILABLE) while their
 * view cannot be trusted, never answered from a stale or local-only view.
 */
export class FleetView {
  private anyCursor = 0;

  constructor(
    private readonly registry: AgentRegistry,
    private readonly remote?: RemoteHosts,
  ) {}

  /** Every host the target names; throws NOT_FOUND when none does. `_any` yields its candidates, best first. */
  select(target: Target): HostLink[] {
    const selected = this.match(target);
    if (selected.length === 0) {
      throw new MeshError(GrpcStatus.NOT_FOUND, "no agent matches the target", `no connected agent matches "${describeTarget(target)}"`);
    }
    return selected;
  }

  /** The whole fleet, sorted by hostname. */
  list(): ListedHost[] {
    return this.all("list the fleet");
  }

  private match(target: Target): HostLink[] {
    switch (target.kind) {
      case "host": {
        const local = this.registry.get(target.hostname);
        if (local) return [local];
        this.refuseIfUntrusted(`reach "${target.hostname}", which is not connected to this router`);
        const remote = this.remote?.get(target.hostname);
        return remote ? [remote] : [];
      }
      case "all":
        return this.all(`resolve "_all"`);
      case "label":
        return this.all(`resolve "${describeTarget(target)}"`).filter((host) => host.labels[target.key] === target.value);
      case "any":
        return this.anyCandidates(this.all(`resolve "_any"`));
    }
  }

  private all(purpose: string): ListedHost[] {
    const local: ListedHost[] = this.registry.list();
    if (!this.remote) return local;
    this.refuseIfUntrusted(purpose);
    const held = new Set(local.map((host) => host.hostname));
    // An agent that moved here is this router's at once; the other router's entry is on its way out.
    const remote = this.remote.list().filter((host) => !held.has(host.hostname));
    return [...local, ...remote].sort((a, b) => compareHostnames(a.hostname, b.hostname));
  }

  private refuseIfUntrusted(purpose: string): void {
    const cause = this.remote?.untrustedBecause();
    if (cause) {
      throw new MeshError(
        GrpcStatus.UNAVAILABLE,
        "fleet view unavailable",
        `cannot ${purpose}: ${cause}; the other routers' agents are unknown, so nothing ran`,
      );
    }
  }

  /**
   * `_any` candidates: healthy agents, least busy first; among equals a rotating start spreads
   * the load. Draining agents come last, so that a fleet that is all draining still answers.
   */
  private anyCandidates(all: HostLink[]): HostLink[] {
    const start = this.anyCursor++ % Math.max(all.length, 1);
    const rotated = [...all.slice(start), ...all.slice(0, start)];
    return rotated.sort((a, b) => Number(a.draining) - Number(b.draining) || a.inFlight - b.inFlight);
  }
}

export function agentInfoOf(host: ListedHost): AgentInfo {
  return {
    hostname: host.hostname,
    labels: { ...host.labels },
    connectedSince: host.connectedSince,
    inFlight: host.inFlight,
    version: host.version,
    draining: host.draining,
    router: host.router,
  };
}
