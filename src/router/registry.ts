import { MeshError, GrpcStatus } from "../errors/index.js";
import type { AgentSession } from "./agent-session.js";
import { describeTarget, type Target } from "./target.js";

/** The connected agents, by hostname, and how a target selects among them. */
export class AgentRegistry {
  private readonly sessions = new Map<string, AgentSession>();
  private anyCursor = 0;

  constructor(
    private readonly staleAfterMs: number,
    /** Told the number of connected agents whenever it changes. */
    private readonly onSizeChange: (size: number) => void = () => {},
  ) {}

  /**
   * Adds a session. Two live agents never share a hostname: a newcomer takes over only with the
   * same kind of identity (a credential verified for this hostname, or both the insecure join
   * token), and then only when it is the same agent process reconnecting (same instance id) or
   * the old session has gone quiet for longer than staleAfterMs. The instance id alone grants
   * nothing: the hostname was already checked against the newcomer's own credential.
   * Returns the session it replaced, if any.
   */
  register(session: AgentSession): AgentSession | undefined {
    const existing = this.sessions.get(session.hostname);
    if (existing) {
      if (isVerifiedHost(existing) !== isVerifiedHost(session)) {
        throw new MeshError(
          GrpcStatus.PERMISSION_DENIED,
          "hostname held by another identity",
          `"${session.hostname}" is connected with a ${existing.credential.kind}; a ${session.credential.kind} cannot take its session over`,
        );
      }
      const sameAgent = existing.identity.instanceId === session.identity.instanceId;
      const quiet = Date.now() - existing.lastHeardAt > this.staleAfterMs;
      if (!sameAgent && !quiet) {
        throw new MeshError(
          GrpcStatus.ALREADY_EXISTS,
          "hostname already connected",
          `another live agent is connected as "${session.hostname}"`,
        );
      }
    }
    this.sessions.set(session.hostname, session);
    if (!existing) this.onSizeChange(this.sessions.size);
    return existing;
  }

  /** Removes a session, unless another has taken its hostname over since. */
  unregister(session: AgentSession): void {
    if (this.sessions.get(session.hostname) !== session) return;
    this.sessions.delete(session.hostname);
    this.onSizeChange(this.sessions.size);
  }

  /**
   * Ends the hostname's live session, if any: its execs in flight are cancelled on the agent (if
   * it still listens) and fail with `message`. True if there was one.
   */
  revoke(hostname: string, message: string): boolean {
    const session = this.sessions.get(hostname);
    if (!session) return false;
    this.unregister(session);
    session.cancelAll(message);
    session.end(new MeshError(GrpcStatus.PERMISSION_DENIED, "agent revoked", message));
    return true;
  }

  get size(): number {
    return this.sessions.size;
  }

  list(): AgentSession[] {
    return [...this.sessions.values()].sort((a, b) => compareHostnames(a.hostname, b.hostname));
  }

  /** Every agent the target names; throws NOT_FOUND when none does. `_any` yields its candidates, best first. */
  select(target: Target): AgentSession[] {
    const selected = this.match(target);
    if (selected.length === 0) {
      throw new MeshError(GrpcStatus.NOT_FOUND, "no agent matches the target", `no connected agent matches "${describeTarget(target)}"`);
    }
    return selected;
  }

  private match(target: Target): AgentSession[] {
    switch (target.kind) {
      case "host": {
        const session = this.sessions.get(target.hostname);
        return session ? [session] : [];
      }
      case "all":
        return this.list();
      case "label":
        return this.list().filter((s) => s.identity.labels[target.key] === target.value);
      case "any":
        return this.anyCandidates();
    }
  }

  /**
   * `_any` candidates: healthy agents, least busy first; among equals a rotating start spreads
   * the load. Draining agents come last, so that a fleet that is all draining still answers.
   */
  private anyCandidates(): AgentSession[] {
    const all = [...this.sessions.values()];
    const start = this.anyCursor++ % Math.max(all.length, 1);
    const rotated = [...all.slice(start), ...all.slice(0, start)];
    return rotated.sort((a, b) => Number(a.draining) - Number(b.draining) || a.inFlight - b.inFlight);
  }
}

/** Whether the session's credential was verified for its hostname, rather than the join token that allows any. */
function isVerifiedHost(session: AgentSession): boolean {
  return session.credential.kind !== "join token";
}

export function compareHostnames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
