import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { AgentRevoked } from "../../gen/meshexec/v1/mesh.js";
import type { Logger } from "../../log/index.js";
import type { AgentRevocations } from "../../store/index.js";
import type { AgentRegistry } from "../registry.js";
import { REVOCATIONS_SUBJECT } from "./forward-messages.js";

/**
 * Agent revocations across the mesh: the router that records one publishes it, and whichever
 * router holds the agent's stream ends it, within a NATS round trip. (The revocation itself is in
 * the router's store, and every router records it in its own as it hears it: until the stores are
 * shared (PostgreSQL), a router that was away when it was published has not got it.)
 */
export class RevocationFeed {
  private subscription?: Subscription;

  constructor(private readonly deps: { nats: NatsConnection; registry: AgentRegistry; revocations: AgentRevocations; log: Logger }) {}

  start(): void {
    this.subscription = this.deps.nats.subscribe(REVOCATIONS_SUBJECT, {
      callback: (err, msg) => {
        if (err) return;
        try {
          const { hostname, message, revokedAt } = AgentRevoked.decode(msg.data);
          // Each router keeps its own SQLite store until they share PostgreSQL: record it here too.
          if (revokedAt) void this.deps.revocations.revoke(hostname, revokedAt);
          if (this.deps.registry.revoke(hostname, message)) this.deps.log.warn({ hostname }, "agent revoked on another router: session ended");
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
