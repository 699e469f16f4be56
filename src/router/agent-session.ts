import type { ServerDuplexStream } from "@grpc/grpc-js";
import type {
  AgentExecOutput,
  AgentExecReply,
  AgentExecRequest,
  AgentHeartbeat,
  AgentMessage,
  ExecCompleted,
  ExecFailed,
  RouterMessage,
} from "../gen/meshexec/v1/agent.js";
import { toStatusObject, type MeshError } from "../errors/index.js";
import type { AgentCredential } from "./agent-authentication.js";
import type { ExecDeliverer, HostLink, OnHostOutput } from "./host-link.js";

/** How one host's exec ended, as far as the router knows. */
export type HostOutcome =
  | { $case: "completed"; value: ExecCompleted }
  | { $case: "failed"; value: ExecFailed }
  /** The agent never answered: it went away, went quiet past the deadline, or the caller left. */
  | { $case: "unanswered"; value: { status: "failed" | "timeout" | "cancelled"; message: string } };

/** Told each piece of an exec's live output, when the request asked for it (streamOutput). */
export type OnExecOutput = (stream: AgentExecOutput["stream"], data: Uint8Array) => void;

export type ExecOrder = Omit<AgentExecRequest, "requestId">;

/** An exec request as written to agents' streams. */
export type ExecRequestMessage = RouterMessage & { kind: { $case: "execRequest"; value: AgentExecRequest } };

let requestCount = 0;

/**
 * The one message that asks every agent of a fan-out to run the order. Ids only need to be unique
 * on each stream, where replies are matched to them; unique across the router, one message object
 * can go to a thousand streams, and the stream encodes it once (see agentLinkService).
 */
export function execRequestOf(order: ExecOrder): ExecRequestMessage {
  return { kind: { $case: "execRequest", value: { ...order, requestId: String(++requestCount) } } };
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
export class AgentSession implements HostLink, ExecDeliverer {
  readonly connectedSince = new Date();
  /** An agent connected here delivers its own execs, on its stream. */
  readonly deliverer: ExecDeliverer = this;
  draining = false;
  lastHeardAt = Date.now();
  /**
   * The execs in flight on this stream and who is told each one's outcome. A list, searched by
   * id: the agent refuses past its slots and queue (96 by default), so it stays short, and it is
   * usually empty between execs. A Map emptied after every exec reallocates its table each time
   * (V8 shrinks it), and a fan-out to 1,000 agents left 1,000 such tables per call in old space.
   */
  private readonly pending: Array<{ requestId: string; onOutcome: (outcome: HostOutcome) => void; onOutput?: OnExecOutput }> = [];

  constructor(
    readonly identity: AgentIdentity,
    private readonly stream: ServerDuplexStream<AgentMessage, RouterMessage>,
    /** How the agent proved who it is on Connect. */
    readonly credential: Pick<AgentCredential, "kind">,
    /** The agent's address as the router sees it, for logs. */
    readonly peer: string,
    /** This router's name (--name). */
    readonly router = "",
  ) {}

  get hostname(): string {
    return this.identity.hostname;
  }

  get version(): string {
    return this.identity.version;
  }

  get labels(): Readonly<Record<string, string>> {
    return this.identity.labels;
  }

  get inFlight(): number {
    return this.pending.length;
  }

  /**
   * Sends one exec. `onOutcome` is told how it ended exactly once: by the agent's reply, by
   * giveUp(), or as "agent disconnected" when the stream ends. Sent at most once: an exec is not
   * idempotent, so nothing here retries. A callback rather than a promise per exec: a fan-out
   * to a thousand agents would hold a thousand promises and their closures for the whole call.
   */
  start(request: ExecRequestMessage, onOutcome: (outcome: HostOutcome) => void, onOutput?: OnExecOutput): void {
    // Selected before its stream ended (a job is recorded between selection and delivery): close()
    // has already run, so nothing else would answer before the exec's deadline.
    if (this.stream.writableEnded || this.stream.destroyed) {
      onOutcome({ $case: "unanswered", value: { status: "failed", message: "agent disconnected" } });
      return;
    }
    this.pending.push({ requestId: request.kind.value.requestId, onOutcome, onOutput });
    this.send(request);
  }

  deliver(request: ExecRequestMessage, _hosts: readonly HostLink[], onOutcome: (index: number, outcome: HostOutcome) => void, onOutput?: OnHostOutput): void {
    this.start(request, (outcome) => onOutcome(0, outcome), onOutput && ((stream, data) => onOutput(0, stream, data)));
  }

  /** Stops waiting for an exec (its deadline passed, or the caller left) and tells the agent to cancel it. */
  giveUp(requestId: string, status: "failed" | "timeout" | "cancelled", message: string): void {
    const i = this.indexOf(requestId);
    if (i < 0) return;
    this.send({ kind: { $case: "cancelExec", value: { requestId } } });
    this.completeAt(i, { $case: "unanswered", value: { status, message } });
  }

  /** Routes an agent's reply to the exec waiting for it; a reply nobody waits for any more is dropped. */
  settle(reply: AgentExecReply): boolean {
    const i = this.indexOf(reply.requestId);
    if (i < 0 || !reply.outcome) return false;
    this.completeAt(i, reply.outcome);
    return true;
  }

  /** Routes a piece of live output to the exec waiting for it; dropped when nobody waits or nobody asked for it. */
  output(piece: AgentExecOutput): boolean {
    const i = this.indexOf(piece.requestId);
    const onOutput = i < 0 ? undefined : this.pending[i].onOutput;
    onOutput?.(piece.stream, piece.data);
    return onOutput !== undefined;
  }

  heartbeat(beat: AgentHeartbeat): void {
    this.lastHeardAt = Date.now();
    this.draining = beat.draining;
    // An empty message, which agents ignore, so the router-to-agent half of an idle stream carries
    // data every heartbeat interval too: proxies time each direction out on its own (nginx's
    // grpc_read_timeout), and HTTP/2 PINGs end at the proxy instead of crossing it.
    this.send({ kind: undefined });
  }

  /** Asks the agent to cancel every exec still in flight, then completes them with `message` (a revocation). */
  cancelAll(message: string): void {
    for (const { requestId } of this.pending) this.send({ kind: { $case: "cancelExec", value: { requestId } } });
    this.close(message);
  }

  /** Completes every exec still in flight with `message`: the agent is gone. */
  close(message: string): void {
    for (const { onOutcome } of this.pending.splice(0)) onOutcome({ $case: "unanswered", value: { status: "failed", message } });
  }

  /** Ends the stream from the router's side (a takeover, or the router shutting down), or with `err` as its status (a revocation). */
  end(err?: MeshError): void {
    if (err) this.stream.emit("error", toStatusObject(err));
    else if (!this.stream.writableEnded) this.stream.end();
  }

  private indexOf(requestId: string): number {
    return this.pending.findIndex((exec) => exec.requestId === requestId);
  }

  private completeAt(i: number, outcome: HostOutcome): void {
    const { onOutcome } = this.pending[i];
    // Order does not matter: the last one takes its place.
    this.pending[i] = this.pending[this.pending.length - 1];
    this.pending.pop();
    onOutcome(outcome);
  }

  private send(message: RouterMessage): void {
    if (!this.stream.writableEnded && !this.stream.destroyed) this.stream.write(message);
  }
}
