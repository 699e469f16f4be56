import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../../log/index.js";
import type { RemoteHosts } from "../fleet-view.js";
import type { AgentRegistry } from "../registry.js";
import { FleetPresence } from "./fleet-presence.js";
import { ForwardServer } from "./forward-server.js";
import { RemoteRouter } from "./remote-router.js";
import { RevocationFeed } from "./revocation-feed.js";
import { JobCancelRelay } from "./job-cancel-relay.js";

export interface MeshDeps {
  nats: NatsConnection;
  routerName: string;
  registry: AgentRegistry;
  isDraining(): boolean;
  /** Told once when another router stops heartbeating: its running jobs are marked failed. */
  onRouterLost(router: string): void;
  /** Cancels a job this router coordinates, for a CancelJob that reached another router; false when it runs no such job. */
  cancelJobHere(jobId: string, cancelledBy: string): Promise<boolean>;
  log: Logger;
}

/** This router as one of a mesh: what the rest of the router needs of NATS. */
export interface Mesh {
  /** Every other router's agents, for the fleet view. */
  remote: RemoteHosts;
  /** Tells every router an agent was revoked, so the one holding it ends its stream. */
  announceRevocation(hostname: string, message: string, revokedAt: Date): boolean;
  /** Asks the router coordinating a job to cancel it; true once it has, false when it runs no such job. */
  cancelJobOn(router: string, jobId: string, cancelledBy: string): Promise<boolean>;
  /** Leaves the mesh: this router's agents and liveness key are deleted, so the others forget it at once. */
  stop(): Promise<void>;
}

/**
 * Joins the mesh over an open NATS connection: presence (this router's agents out, everyone
 * else's in), forwards taken for the agents held here, forwards sent through one RemoteRouter
 * per peer, and the revocation feed.
 */
export async function joinMesh(deps: MeshDeps): Promise<Mesh> {
  const { nats, routerName, registry, log } = deps;
  const peers = new Map<string, RemoteRouter>();
  const peerOf = (name: string) => {
    let peer = peers.get(name);
    if (!peer) peers.set(name, (peer = new RemoteRouter(name, { nats, coordinator: routerName, log })));
    return peer;
  };
  const presence = new FleetPresence({
    nats,
    routerName,
    registry,
    delivererOf: peerOf,
    onRouterLost: (name) => {
      peers.get(name)?.lost();
      deps.onRouterLost(name);
    },
    log,
  });
  registry.observe({
    admit: (session) => presence.admit(session),
    connected: (session) => presence.connected(session),
    disconnected: (session) => void presence.disconnected(session),
  });
  await presence.start();
  const forwards = new ForwardServer({ nats, routerName, registry, isDraining: deps.isDraining, log });
  forwards.start();
  const revocations = new RevocationFeed({ nats, registry, log });
  revocations.start();
  const cancels = new JobCancelRelay({ nats, routerName, cancelHere: deps.cancelJobHere, log });
  cancels.start();
  log.info({ router: routerName }, "joined the mesh");
  return {
    remote: presence,
    announceRevocation: (hostname, message, revokedAt) => {
      revocations.publish(hostname, message, revokedAt);
      return presence.get(hostname) !== undefined;
    },
    cancelJobOn: (router, jobId, cancelledBy) => cancels.cancelOn(router, jobId, cancelledBy),
    async stop() {
      forwards.stop();
      revocations.stop();
      cancels.stop();
      await presence.stop();
    },
  };
}
