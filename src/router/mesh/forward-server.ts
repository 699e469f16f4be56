import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import { ExecFailureReason } from "../../gen/meshexec/v1/agent.js";
import { ForwardCancel, ForwardExec } from "../../gen/meshexec/v1/mesh.js";
import { AGENT_ANSWER_GRACE_MS, execLimits } from "../../contract/index.js";
import type { Logger } from "../../log/index.js";
import { execRequestOf } from "../agent-session.js";
import { deliverEach } from "../dispatch.js";
import type { HostLink, OnHostOutput } from "../host-link.js";
import type { AgentRegistry } from "../registry.js";
import { FORWARD_HEARTBEAT_MS, cancelSubjectOf, encodeEvent, execSubjectOf, fitToPayload, toForwardOutcome } from "./forward-messages.js";

/** Room left in a NATS message for an outcome's framing and error text, beside its output. */
const OUTCOME_MARGIN_BYTES = 16 * 1024;
const LONGEST_ANSWER_MS = execLimits.maxTimeoutSeconds * 1000 + AGENT_ANSWER_GRACE_MS;

export interface ForwardServerDeps {
  nats: NatsConnection;
  routerName: string;
  registry: AgentRegistry;
  isDraining(): boolean;
  log: Logger;
}

/**
 * The holding router's side of forwarding: takes ForwardExecs for the agents it holds, runs
 * each on their streams with the same delivery as its own calls (dispatch.ts's deliverEach: one
 * deadline, one cancellation), and sends each host's outcome back as it finishes, with a heartbeat
 * every second until the last. Only the mesh's routers can publish on NATS (its credentials are
 * the mesh's trust boundary): the coordinating router authenticated and authorized the caller,
 * so a forward is trusted as it comes.
 */
export class ForwardServer {
  private readonly running = new Map<string, AbortController>();
  private subscriptions: Subscription[] = [];

  constructor(private readonly deps: ForwardServerDeps) {}

  start(): void {
    const { nats, routerName } = this.deps;
    this.subscriptions = [
      nats.subscribe(execSubjectOf(routerName), { callback: (err, msg) => void (err || this.onForward(msg)) }),
      nats.subscribe(cancelSubjectOf(routerName), { callback: (err, msg) => void (err || this.onCancel(msg)) }),
    ];
  }

  stop(): void {
    this.subscriptions.forEach((subscription) => subscription.unsubscribe());
  }

  private onForward(msg: Msg): void {
    let forward: ForwardExec;
    try {
      forward = ForwardExec.decode(msg.data);
    } catch {
      return;
    }
    const refuse = (reason: string) => msg.respond(encodeEvent({ forwardId: forward.forwardId, event: { $case: "refused", value: { reason } } }));
    if (this.deps.isDraining()) return void refuse(`router ${this.deps.routerName} is shutting down`);
    if (!forward.order || !forward.eventsTo || forward.hostnames.length === 0) return void refuse("the forward names no order, hosts or inbox");
    const publish = (event: Parameters<typeof encodeEvent>[0]["event"]) =>
      this.deps.nats.publish(forward.eventsTo, encodeEvent({ forwardId: forward.forwardId, event }));

    msg.respond(encodeEvent({ forwardId: forward.forwardId, event: { $case: "accepted", value: {} } }));
    const budget = (this.deps.nats.info?.max_payload ?? 1024 * 1024) - OUTCOME_MARGIN_BYTES;
    const links: HostLink[] = [];
    for (const hostname of forward.hostnames) {
      const session = this.deps.registry.get(hostname);
      if (session) links.push(session);
      else {
        // The agent left this router since the fleet view was read: it never got the exec.
        const message = `the agent is no longer connected to router ${this.deps.routerName}; nothing ran`;
        publish({
          $case: "outcome",
          value: toForwardOutcome(hostname, { $case: "failed", value: { reason: ExecFailureReason.EXEC_FAILURE_REASON_UNSPECIFIED, message } }, 0),
        });
      }
    }
    if (links.length === 0) return;
    const controller = new AbortController();
    this.running.set(forward.forwardId, controller);
    const heartbeat = setInterval(() => publish({ $case: "heartbeat", value: {} }), FORWARD_HEARTBEAT_MS);
    const { requestId: _theirs, ...order } = forward.order;
    // The coordinator's deadline, held to what any exec may take: a peer's number is still bounded.
    const answerWithinMs = Math.min(forward.answerWithinMs || LONGEST_ANSWER_MS, LONGEST_ANSWER_MS);
    // Live output pieces go as they come, when the caller asked for them; an agent's piece is far below max_payload.
    const onOutput: OnHostOutput | undefined = order.streamOutput
      ? (i, stream, data) => publish({ $case: "output", value: { hostname: links[i].hostname, stream, data: Buffer.from(data) } })
      : undefined;
    deliverEach(
      links,
      execRequestOf(order),
      { signal: controller.signal, answerWithinMs },
      (i, outcome, elapsedMs) => {
        const fitted = outcome.$case === "completed" ? { $case: "completed" as const, value: fitToPayload(outcome.value, budget) } : outcome;
        publish({ $case: "outcome", value: toForwardOutcome(links[i].hostname, fitted, elapsedMs) });
      },
      onOutput,
    )
      .catch((err: Error) => this.deps.log.error({ err: err.message, forwardId: forward.forwardId }, "forwarded exec failed"))
      .finally(() => {
        clearInterval(heartbeat);
        this.running.delete(forward.forwardId);
      });
    this.deps.log.debug(
      { forwardId: forward.forwardId, coordinator: forward.coordinator, hosts: links.length, requestId: order.trace?.requestId },
      "forwarded exec accepted",
    );
  }

  private onCancel(msg: Msg): void {
    try {
      this.running.get(ForwardCancel.decode(msg.data).forwardId)?.abort();
    } catch {
      // a malformed cancel cancels nothing
    }
  }
}
