import type { ServerDuplexStream } from "@grpc/grpc-js";
import type {
  AgentExecReply,
  AgentExecRequest,
  AgentHeartbeat,
  AgentMessage,
  ExecCompleted,
  ExecFailed,
  RouterMessage,
} from "../gen/meshexec/v1/agent.js";

/** How one host's exec ended, as far as the router knows. */
export type HostOutcome =
  | { $case: "completed"; value: ExecCompleted }
  | { $case: "failed"; value: ExecFailed }
  /** The agent never answered: it went away, went quiet past the deadline, or the caller left. */
  | { $case: "unanswered"; value: { status: "failed" | "timeout"; message: string } };

export type ExecOrder = Omit<AgentExecRequest, "requestId">;

/** An exec sent to an agent and not yet answered. */
export interface PendingExec {
  readonly outcome: Promise<HostOutcome>;
  /** Stops waiting (its deadline passed, or the caller left) and tells the agent to cancel. */
  giveUp(status: "failed" | "timeout", message: string): void;
}

export interface AgentIdentity {
  hostname: string;
  labels: Readonly<Record<string, string>>;
  version: string;
  instanceId: string;
}

/**
 * One connected agent: its identity, and the execs in flight on its stream, matched to replies
 * by request id so any number can share the stream and replies may come in any order.
 */
export class AgentSession {
  readonly connectedSince = new Date();
  draining = false;
  lastHeardAt = Date.now();
  private readonly pending = new Map<string, (outcome: HostOutcome) => void>();
  private requestCount = 0;

  constructor(
    readonly identity: AgentIdentity,
    private readonly stream: ServerDuplexStream<AgentMessage, RouterMessage>,
  ) {}

  get hostname(): string {
    return this.identity.hostname;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Sends one exec. Its outcome settles exactly once: by the agent's reply, by giveUp(), or as
   * "agent disconnected" when the stream ends; it never rejects. Sent at most once: an exec is
   * not idempotent, so nothing here retries.
   */
  start(order: ExecOrder): PendingExec {
    // Ids only need to be unique on this stream, where replies are matched to them.
    const requestId = String(++this.requestCount);
    let resolve!: (outcome: HostOutcome) => void;
    const outcome = new Promise<HostOutcome>((r) => (resolve = r));
    this.pending.set(requestId, (settled) => {
      if (this.pending.delete(requestId)) resolve(settled);
    });
    this.send({ kind: { $case: "execRequest", value: { ...order, requestId } } });
    return {
      outcome,
      giveUp: (status, message) => {
        const settle = this.pending.get(requestId);
        if (!settle) return;
        this.send({ kind: { $case: "cancelExec", value: { requestId } } });
        settle({ $case: "unanswered", value: { status, message } });
      },
    };
  }

  /** Routes an agent's reply to the exec waiting for it; a reply nobody waits for any more is dropped. */
  settle(reply: AgentExecReply): boolean {
    const waiter = this.pending.get(reply.requestId);
    if (!waiter || !reply.outcome) return false;
    waiter(reply.outcome);
    return true;
  }

  heartbeat(beat: AgentHeartbeat): void {
    this.lastHeardAt = Date.now();
    this.draining = beat.draining;
    // An empty message, which agents ignore, so the router-to-agent half of an idle stream carries
    // data every heartbeat interval too: proxies time each direction out on its own (nginx's
    // grpc_read_timeout), and HTTP/2 PINGs end at the proxy instead of crossing it.
    this.send({ kind: undefined });
  }

  /** Completes every exec still in flight with `message`: the agent is gone. */
  close(message: string): void {
    for (const settle of [...this.pending.values()]) {
      settle({ $case: "unanswered", value: { status: "failed", message } });
    }
  }

  /** Ends the stream from the router's side (a takeover, or the router shutting down). */
  end(): void {
    if (!this.stream.writableEnded) this.stream.end();
  }

  private send(message: RouterMessage): void {
    if (!this.stream.writableEnded && !this.stream.destroyed) this.stream.write(message);
  }
}
