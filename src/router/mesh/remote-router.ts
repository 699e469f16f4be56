import { randomUUID } from "node:crypto";
import { createInbox, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { ExecFailureReason } from "../../gen/meshexec/v1/agent.js";
import { ForwardCancel, ForwardEvent, ForwardExec } from "../../gen/meshexec/v1/mesh.js";
import { AGENT_ANSWER_GRACE_MS } from "../../contract/index.js";
import type { Logger } from "../../log/index.js";
import type { ExecRequestMessage, HostOutcome } from "../agent-session.js";
import type { ExecDeliverer, HostLink, OnHostOutput } from "../host-link.js";
import { FORWARD_ACCEPT_WITHIN_MS, FORWARD_SILENCE_LIMIT_MS, cancelSubjectOf, execSubjectOf, fromForwardOutcome } from "./forward-messages.js";

/** One forward in flight: the hosts of one call that one router holds. */
interface Forward {
  readonly id: string;
  readonly requestId: string;
  readonly hosts: readonly HostLink[];
  readonly onOutcome: (index: number, outcome: HostOutcome) => void;
  readonly onOutput?: OnHostOutput;
  readonly settled: boolean[];
  unsettled: number;
  accepted: boolean;
  lastHeardAt: number;
}

/**
 * Another router of the mesh, as the deliverer of the hosts it holds: one NATS request per call
 * (ForwardExec on its exec subject), its acceptance as the reply, then heartbeats and each host's
 * outcome on an inbox of ours.
 *
 * At most once per host: only "no responders" or a refusal before acceptance proves nothing ran,
 * and only those come back as refusals (`failed`), which `_any` may move on from. A forward not
 * accepted in time, or silent for FORWARD_SILENCE_LIMIT_MS after its acceptance, or whose router
 * goes stale, leaves its unfinished hosts `failed` naming the lost router, never sent again.
 */
export class RemoteRouter implements ExecDeliverer {
  private readonly forwards = new Map<string, Forward>();
  private readonly forwardsById = new Map<string, Forward>();
  private watchdog?: NodeJS.Timeout;
  /**
   * Where this router's events come back: one subscription for all its forwards to this peer,
   * each forward on its own subject under it. A subscription per forward cost a SUB and an UNSUB
   * on the connection for every call.
   */
  private events?: { prefix: string; subscription: Subscription };

  constructor(
    readonly name: string,
    private readonly deps: { nats: NatsConnection; coordinator: string; log: Logger },
  ) {}

  deliver(request: ExecRequestMessage, hosts: readonly HostLink[], onOutcome: (index: number, outcome: HostOutcome) => void, onOutput?: OnHostOutput): void {
    const order = request.kind.value;
    const forward: Forward = {
      id: randomUUID(),
      requestId: order.requestId,
      hosts,
      onOutcome,
      onOutput,
      settled: hosts.map(() => false),
      unsettled: hosts.length,
      accepted: false,
      lastHeardAt: Date.now(),
    };
    const eventsTo = `${this.eventsPrefix()}.${forward.id}`;
    this.forwards.set(forward.requestId, forward);
    this.forwardsById.set(forward.id, forward);
    this.startWatchdog();
    const message = ForwardExec.encode({
      forwardId: forward.id,
      coordinator: this.deps.coordinator,
      order,
      hostnames: hosts.map((host) => host.hostname),
      answerWithinMs: order.timeoutMs + AGENT_ANSWER_GRACE_MS,
      eventsTo,
    }).finish();
    this.deps.nats.request(execSubjectOf(this.name), message, { timeout: FORWARD_ACCEPT_WITHIN_MS }).then(
      (reply) => this.onEvent(forward, reply.data),
      (err: Error & { isNoResponders?: () => boolean }) => {
        if (err.isNoResponders?.()) {
          this.refuse(forward, `router ${this.name} has no responders on NATS; nothing ran`);
        } else if (!forward.accepted) {
          // It may have reached the router: never sent again.
          this.lose(forward, `router lost: ${this.name} did not accept the exec within ${FORWARD_ACCEPT_WITHIN_MS / 1000} s (${err.message}); it may have run`);
        }
      },
    );
  }

  giveUp(requestId: string, status: "failed" | "timeout" | "cancelled", message: string): void {
    const forward = this.forwards.get(requestId);
    if (!forward) return;
    this.deps.nats.publish(cancelSubjectOf(this.name), ForwardCancel.encode({ forwardId: forward.id }).finish());
    this.completeAll(forward, { $case: "unanswered", value: { status, message } });
  }

  /** The router went stale in the fleet view: every forward to it is lost now, not after the silence limit. */
  lost(): void {
    for (const forward of [...this.forwards.values()]) this.lose(forward, `router lost: ${this.name} stopped heartbeating on NATS`);
  }

  private onEvent(forward: Forward, data: Uint8Array): void {
    let event: ForwardEvent;
    try {
      event = ForwardEvent.decode(data);
    } catch {
      return;
    }
    if (event.forwardId !== forward.id || !this.forwards.has(forward.requestId)) return;
    forward.lastHeardAt = Date.now();
    switch (event.event?.$case) {
      case "accepted":
      case "heartbeat":
        forward.accepted = true;
        return;
      case "refused":
        if (!forward.accepted) this.refuse(forward, `router ${this.name} refused the exec: ${event.event.value.reason}; nothing ran`);
        return;
      case "output": {
        const { hostname, stream, data } = event.event.value;
        const index = forward.hosts.findIndex((host, i) => host.hostname === hostname && !forward.settled[i]);
        if (index >= 0) forward.onOutput?.(index, stream, data);
        return;
      }
      case "outcome": {
        forward.accepted = true;
        const { hostname } = event.event.value;
        const index = forward.hosts.findIndex((host, i) => host.hostname === hostname && !forward.settled[i]);
        if (index >= 0) this.complete(forward, index, fromForwardOutcome(event.event.value));
        return;
      }
    }
  }

  private refuse(forward: Forward, message: string): void {
    this.completeAll(forward, { $case: "failed", value: { reason: ExecFailureReason.EXEC_FAILURE_REASON_UNSPECIFIED, message } });
  }

  private lose(forward: Forward, message: string): void {
    this.deps.log.warn({ router: this.name, forwardId: forward.id, hosts: forward.unsettled }, message);
    this.completeAll(forward, { $case: "unanswered", value: { status: "failed", message } });
  }

  private completeAll(forward: Forward, outcome: HostOutcome): void {
    forward.hosts.forEach((_, i) => this.complete(forward, i, outcome));
  }

  private complete(forward: Forward, index: number, outcome: HostOutcome): void {
    if (forward.settled[index]) return;
    forward.settled[index] = true;
    if (--forward.unsettled === 0) {
      this.forwards.delete(forward.requestId);
      this.forwardsById.delete(forward.id);
      if (this.forwards.size === 0) this.stopWatchdog();
    }
    forward.onOutcome(index, outcome);
  }

  private eventsPrefix(): string {
    if (!this.events) {
      const prefix = createInbox();
      const subscription = this.deps.nats.subscribe(`${prefix}.*`, {
        callback: (err, msg) => {
          if (err) return;
          const forward = this.forwardsById.get(msg.subject.slice(prefix.length + 1));
          if (forward) this.onEvent(forward, msg.data);
        },
      });
      this.events = { prefix, subscription };
    }
    return this.events.prefix;
  }

  private startWatchdog(): void {
    this.watchdog ??= setInterval(() => {
      const now = Date.now();
      for (const forward of [...this.forwards.values()]) {
        if (forward.accepted && now - forward.lastHeardAt > FORWARD_SILENCE_LIMIT_MS) {
          this.lose(forward, `router lost: ${this.name} went silent for ${FORWARD_SILENCE_LIMIT_MS / 1000} s while running the exec`);
        }
      }
    }, 500);
  }

  private stopWatchdog(): void {
    clearInterval(this.watchdog);
    this.watchdog = undefined;
  }
}
