import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { AgentRevoked } from "../../gen/meshexec/v1/mesh.js";
import type { Logger } from "../../log/index.js";
import type { AgentRegistry } from "../registry.js";
import { REVOCATIONS_SUBJECT } from "./forward-messages.js";

/**
 * Agent revocations across the mesh: the router that records one publishes it, and whichever
 * router holds the agent's stream ends it, within a NATS round trip. The revocation itself is in
 * the PostgreSQL store the routers of a mesh share, which refuses the agent's next hello anywhere.
 */
export class RevocationFeed {
  private subscription?: Subscription;

  constructor(private readonly deps: { nats: NatsConnection; registry: AgentRegistry; log: Logger }) {}

  start(): void {
    this.subscription = this.deps.nats.subscribe(REVOCATIONS_SUBJECT, {
      callback: (err, msg) => {
        if (err) return;
        try {
          // The revoking router has recorded it in the store every router of a mesh shares (--nats needs
          // --database-url); this router only ends the session it holds.
          const { hostname, message, revokedAt } = AgentRevoked.decode(msg.data);
          if (this.deps.registry.revoke(hostname, message)) this.deps.log.warn({ hostname, revokedAt }, "agent revoked on another router: session ended");
        } catch {
          // a malformed message revokes nothing
        }
      },
    });
  }

  publish(hostname: string, message: string, revokedAt: Date): void {
    this.deps.nats.publish(REVOCATIONS_SUBJECT, AgentRevoked.encode({ hostname, message, revokedAt }).finish());
  }

  stop(): void {
    this.subscription?.unsubscribe();
  }
}
