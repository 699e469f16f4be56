import { MeshError, GrpcStatus } from "../errors/index.js";
import type { AgentSession } from "./agent-session.js";

/** The agents connected to this router, by hostname; FleetView resolves targets over them and other routers'. */
export class AgentRegistry {
  private readonly sessions = new Map<string, AgentSession>();
  private observer?: RegistryObserver;

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
    if (!existing) this.observer?.admit?.(session);
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
        throw new MeshError(GrpcStatus.ALREADY_EXISTS, "hostname already connected", `another live agent is connected as "${session.hostname}"`);
      }
    }
    this.sessions.set(session.hostname, session);
    if (existing) this.observer?.disconnected(existing);
    else this.onSizeChange(this.sessions.size);
    this.observer?.connected(session);
    return existing;
  }

  /** Removes a session, unless another has taken its hostname over since. */
  unregister(session: AgentSession): void {
    if (this.sessions.get(session.hostname) !== session) return;
    this.sessions.delete(session.hostname);
    this.onSizeChange(this.sessions.size);
    this.observer?.disconnected(session);
  }

  /** Tells `observer` of every session that registers here, and of each one that leaves (presence on NATS). */
  observe(observer: RegistryObserver): void {
    this.observer = observer;
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

  get(hostname: string): AgentSession | undefined {
    return this.sessions.get(hostname);
  }
}

export interface RegistryObserver {
  /** Refuses (throws) a session that the same rules refuse here, when another router holds its hostname. */
  admit?(session: AgentSession): void;
  connected(session: AgentSession): void;
  /** The session left: its stream ended, it was revoked, or a newer one took its hostname over. */
  disconnected(session: AgentSession): void;
}

/** Whether the session's credential was verified for its hostname, rather than the join token that allows any. */
function isVerifiedHost(session: AgentSession): boolean {
  return session.credential.kind !== "join token";
}

export function compareHostnames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
