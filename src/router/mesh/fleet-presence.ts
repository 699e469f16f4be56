import type { NatsConnection } from "@nats-io/transport-node";
import { Kvm, type KV, type KvWatchEntry } from "@nats-io/kv";
import { GrpcStatus, MeshError } from "../../errors/index.js";
import type { Logger } from "../../log/index.js";
import type { AgentSession } from "../agent-session.js";
import type { ListedHost, RemoteHosts } from "../fleet-view.js";
import type { ExecDeliverer } from "../host-link.js";
import type { AgentRegistry } from "../registry.js";
import { hostnameOfPresenceKey, isPulseKey, presenceKeyOf, pulseKeyOf } from "./presence-key.js";

export const AGENTS_BUCKET = "meshexec_agents";
export const ROUTERS_BUCKET = "meshexec_routers";
/** Every router rewrites its liveness key this often, and publishes its agents' changed state. */
export const ROUTER_HEARTBEAT_MS = 2_000;
/**
 * A router not heard from for this long is taken as dead: its agents leave every view at once
 * and their entries are swept. Four heartbeats, so one slow write does not drop a fleet; with the
 * 1 s sweep, a dead router's agents are gone from every view within 9 s (the issue allows 15).
 */
export const ROUTER_STALE_AFTER_MS = 8_000;
const SWEEP_EVERY_MS = 1_000;
const BUCKET_READY_WITHIN_MS = 15_000;
const INITIAL_READ_WITHIN_MS = 5_000;
/** Three router heartbeats. */
const WATCH_STALL_MS = 3 * ROUTER_HEARTBEAT_MS;
/**
 * The routers bucket's max age: a key no heartbeat refreshes goes after this. nats-server 2.9 says
 * nothing when it does, so staleness is judged by heartbeats, not by this; it only keeps the bucket
 * from keeping the names of routers gone for good.
 */
const ROUTERS_BUCKET_MAX_AGE_MS = 3_600_000;

/** What a router writes for each agent it holds, under presenceKeyOf(hostname). */
export interface PresenceEntry {
  hostname: string;
  labels: Record<string, string>;
  draining: boolean;
  inFlight: number;
  version: string;
  router: string;
  /** Which of the agent's connections this is: its instance id and when it connected. */
  connectionId: string;
  instanceId: string;
  /** "token", "certificate" or "join token": a join-token session never takes over a verified one. */
  credential: string;
  connectedSince: string;
}

interface Published {
  readonly key: string;
  /** The revision this router last wrote for the session; undefined while the first write is on its way. */
  revision?: number;
  /** The newest revision another router wrote for the hostname after this session's write began. */
  claimedElsewhereAt?: number;
  inFlight: number;
  draining: boolean;
  /** Writes for one session happen in order: connect, state changes, then the delete. */
  chain: Promise<unknown>;
  /** A claim is on its way. */
  writing?: boolean;
  gone: boolean;
}

interface RemoteEntry {
  revision: number;
  host: ListedHost;
  instanceId: string;
  credential: string;
}

export interface FleetPresenceDeps {
  nats: NatsConnection;
  routerName: string;
  registry: AgentRegistry;
  /** The deliverer for hosts another router holds: one per router. */
  delivererOf(router: string): ExecDeliverer;
  /** Told once when a router goes stale (stopped heartbeating), so its forwards in flight fail at once. */
  onRouterLost(router: string): void;
  log: Logger;
}

/**
 * Agent presence on NATS JetStream KV. Publishes the agents this router holds (written on
 * connect, state changes at most once per heartbeat, deleted on disconnect), heartbeats this
 * router's liveness, and keeps a live view of every other router's agents from a watch.
 *
 * Who holds a hostname: the newest write to its key. A router that sees another router write the
 * key of an agent it holds after its own write ends its session there (the agent has dialled
 * elsewhere; its old stream is dead or dying). A disconnect deletes the key only if it still holds
 * this router's revision (compare-and-set), so it never erases a newer claim by another router.
 * nats-server 2.9.10 has no per-key TTL and reports no key ageing out, so liveness is explicit:
 * the entries of a router whose liveness key has not changed for ROUTER_STALE_AFTER_MS are
 * ignored at once and swept (compare-and-set too, so a fresh claim survives a sweep).
 */
export class FleetPresence implements RemoteHosts {
  private readonly published = new Map<AgentSession, Published>();
  /** Sessions gone whose entry could not be deleted yet. */
  private readonly undeleted = new Map<AgentSession, Published>();
  private readonly remote = new Map<string, RemoteEntry>();
  /** Local time each router's liveness key last changed. */
  private readonly routerSeenAt = new Map<string, number>();
  private readonly lostRouters = new Set<string>();
  private readonly startedAt = Date.now();
  /** When this router last saw its own heartbeat come back on each watch: the watches' pulse. */
  private ownHeartbeatSeenAt = Date.now();
  private ownPulseSeenAt = Date.now();
  private watchers: Array<{ stop(): void }> = [];
  private restartingWatches = false;
  private agents!: KV;
  private routers!: KV;
  private natsProblem?: string;
  private loaded = false;
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;

  constructor(private readonly deps: FleetPresenceDeps) {}

  async start(): Promise<void> {
    this.agents = await this.openBucket(AGENTS_BUCKET, {});
    this.routers = await this.openBucket(ROUTERS_BUCKET, { ttl: ROUTERS_BUCKET_MAX_AGE_MS });
    await whileJetStreamStarts("write this router's liveness key", () => this.heartbeat());
    this.watchStatus();
    await this.startWatches();
    this.loaded = true;
    this.timers = [
      setInterval(
        () => void this.heartbeat().catch((err) => this.deps.log.warn({ err: (err as Error).message }, "router heartbeat not written")),
        ROUTER_HEARTBEAT_MS,
      ),
      setInterval(() => {
        this.publishStateChanges();
        this.retryDeletes();
      }, ROUTER_HEARTBEAT_MS),
      setInterval(() => {
        this.restartStalledWatches();
        this.sweepStaleRouters();
      }, SWEEP_EVERY_MS),
    ];
  }

  /** Stops heartbeating and deletes this router's agents and liveness key, so others forget it at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timers.forEach(clearInterval);
    this.watchers.forEach((watcher) => watcher.stop());
    await Promise.allSettled([...this.published.keys()].map((session) => this.disconnected(session)));
    await Promise.allSettled([this.routers.delete(this.deps.routerName), this.agents.delete(pulseKeyOf(this.deps.routerName))]);
  }

  untrustedBecause(): string | undefined {
    if (this.natsProblem) return this.natsProblem;
    if (this.restartingWatches) return "the presence watch on NATS stalled and is being restarted";
    if (!this.loaded) return "the fleet view is still loading from NATS";
    return undefined;
  }

  get(hostname: string): ListedHost | undefined {
    const entry = this.remote.get(hostname);
    return entry && this.isLive(entry.host.router) ? entry.host : undefined;
  }

  list(): ListedHost[] {
    return [...this.remote.values()].filter((entry) => this.isLive(entry.host.router)).map((entry) => entry.host);
  }

  /**
   * The registry's takeover rule across routers: while a live router holds the hostname, only the
   * same agent process reconnecting (same instance id) with the same kind of identity may claim it
   * here. (A router cannot tell whether another's session went quiet; that one notices a dead
   * stream within two keepalives and deletes its entry, after which the claim is free.)
   */
  admit(session: AgentSession): void {
    const held = this.remote.get(session.hostname);
    if (!held || !this.isLive(held.host.router)) return;
    const verified = (kind: string) => kind !== "join token";
    if (verified(held.credential) !== verified(session.credential.kind)) {
      throw new MeshError(
        GrpcStatus.PERMISSION_DENIED,
        "hostname held by another identity",
        `"${session.hostname}" is connected to router ${held.host.router} with a ${held.credential}; a ${session.credential.kind} cannot take its session over`,
      );
    }
    if (held.instanceId !== session.identity.instanceId) {
      throw new MeshError(
        GrpcStatus.ALREADY_EXISTS,
        "hostname already connected",
        `another live agent is connected as "${session.hostname}", to router ${held.host.router}`,
      );
    }
  }

  /** Publishes a session that just registered here: the newest connection claims the hostname. */
  connected(session: AgentSession): void {
    const published: Published = {
      key: presenceKeyOf(session.hostname),
      inFlight: session.inFlight,
      draining: session.draining,
      chain: Promise.resolve(),
      gone: false,
    };
    this.published.set(session, published);
    const claimed = (revision: number) => {
      published.revision = revision;
      if ((published.claimedElsewhereAt ?? 0) > revision) this.takenOver(session, "a newer connection to another router");
    };
    published.writing = true;
    published.chain = this.agents
      .put(published.key, this.entryOf(session))
      .then(claimed, (err: Error) => {
        this.deps.log.warn({ hostname: session.hostname, err: err.message }, "agent presence not written yet; trying again");
        return this.claimAgain(session, published);
      })
      .finally(() => (published.writing = false));
  }

  /**
   * Writes a session's entry again after a write that failed: it may have landed all the same
   * (its answer lost), and meanwhile the agent may have connected elsewhere. Ours: keep it. Another
   * router's newer connection: it holds the agent, and this session ends. Otherwise: write ours.
   * Tried with every heartbeat until it is written.
   */
  private async claimAgain(session: AgentSession, published: Published): Promise<void> {
    try {
      const entry = await this.agents.get(published.key);
      const value = entry?.operation === "PUT" ? entry.json<PresenceEntry>() : undefined;
      if (entry && value?.router === this.deps.routerName && value.connectionId === connectionIdOf(session)) {
        published.revision = entry.revision;
      } else if (entry && value && value.router !== this.deps.routerName && new Date(value.connectedSince) > session.connectedSince) {
        this.takenOver(session, `a newer connection to router ${value.router}`);
      } else {
        published.revision = entry
          ? await this.agents.update(published.key, this.entryOf(session), entry.revision)
          : await this.agents.create(published.key, this.entryOf(session));
      }
    } catch {
      // JetStream still unavailable, or someone wrote between the read and the write: next heartbeat.
    }
  }

  /**
   * The revision of the session's entry as NATS has it, if the entry is still this connection's.
   * A write whose answer was lost (a NATS node died under it) may have landed all the same; the
   * connection id tells this router's own entry from another router's newer claim, which is never touched.
   */
  private async ownRevision(session: AgentSession, published: Published): Promise<number | undefined> {
    const entry = await this.agents.get(published.key);
    if (!entry || entry.operation !== "PUT") return undefined;
    const value = entry.json<PresenceEntry>();
    return value.router === this.deps.routerName && value.connectionId === connectionIdOf(session) ? entry.revision : undefined;
  }

  /** Deletes the session's entry, unless another router has claimed the hostname since (compare-and-set). */
  disconnected(session: AgentSession): Promise<unknown> {
    const published = this.published.get(session);
    if (!published || published.gone) return Promise.resolve();
    published.gone = true;
    this.published.delete(session);
    published.chain = published.chain.then(() => this.deleteOwn(session, published));
    return published.chain;
  }

  /**
   * Deletes the entry if it is still this connection's. One that fails (JetStream unavailable
   * while a NATS cluster elects a leader) is tried again with every heartbeat until it is gone or
   * no longer ours: a leftover entry would show a disconnected agent to every router.
   */
  private async deleteOwn(session: AgentSession, published: Published): Promise<void> {
    try {
      // The revision may be stale after a write whose answer was lost: ask NATS when unsure.
      const revision = published.revision ?? (await this.ownRevision(session, published));
      if (revision !== undefined) await this.agents.delete(published.key, { previousSeq: revision });
      this.undeleted.delete(session);
    } catch (err) {
      published.revision = undefined;
      if (!this.undeleted.has(session))
        this.deps.log.warn({ hostname: session.hostname, err: (err as Error).message }, "agent presence not deleted yet; trying again");
      this.undeleted.set(session, published);
    }
  }

  private retryDeletes(): void {
    for (const [session, published] of this.undeleted) {
      published.chain = published.chain.then(() => this.deleteOwn(session, published));
    }
  }

  private entryOf(session: AgentSession): Uint8Array {
    const entry: PresenceEntry = {
      hostname: session.hostname,
      labels: { ...session.labels },
      draining: session.draining,
      inFlight: session.inFlight,
      version: session.version,
      router: this.deps.routerName,
      connectionId: connectionIdOf(session),
      instanceId: session.identity.instanceId,
      credential: session.credential.kind,
      connectedSince: session.connectedSince.toISOString(),
    };
    return new TextEncoder().encode(JSON.stringify(entry));
  }

  /** Rewrites the entries whose draining or in-flight count changed; at most once per heartbeat each. */
  private publishStateChanges(): void {
    for (const [session, published] of this.published) {
      if (published.revision === undefined && !published.writing && !published.gone) {
        published.writing = true;
        published.chain = published.chain.then(() => this.claimAgain(session, published)).finally(() => (published.writing = false));
        continue;
      }
      if (published.revision === undefined || (published.inFlight === session.inFlight && published.draining === session.draining)) continue;
      published.inFlight = session.inFlight;
      published.draining = session.draining;
      const written = published.revision;
      published.chain = published.chain.then(() =>
        this.agents.update(published.key, this.entryOf(session), written).then(
          (revision) => (published.revision = revision),
          // Someone else wrote the key (another router holds the agent now, and the watch ends this
          // session), or this write's answer was lost after it landed: keep the revision NATS has, if ours.
          async () => {
            const revision = await this.ownRevision(session, published).catch(() => undefined);
            if (revision !== undefined) published.revision = revision;
          },
        ),
      );
    }
  }

  /** This router's liveness key, and its pulse in the agents bucket (which tells its own agents watch is alive). */
  private async heartbeat(): Promise<void> {
    if (this.stopped) return;
    const beat = new TextEncoder().encode(JSON.stringify({ router: this.deps.routerName, at: Date.now() }));
    await Promise.all([this.routers.put(this.deps.routerName, beat), this.agents.put(pulseKeyOf(this.deps.routerName), beat)]);
  }

  private onRouterEntry(entry: KvWatchEntry): void {
    if (entry.key === this.deps.routerName) {
      // This router's own heartbeats were not getting through (JetStream electing a leader after a
      // node died, say): nobody else's were either, so their silence proves nothing. Every router
      // starts a fresh stale period now, instead of being swept for NATS's outage.
      const now = Date.now();
      if (now - this.ownHeartbeatSeenAt > 2 * ROUTER_HEARTBEAT_MS) {
        for (const [router, seenAt] of this.routerSeenAt) if (seenAt > 0) this.routerSeenAt.set(router, now);
      }
      this.ownHeartbeatSeenAt = now;
    }
    if (entry.operation === "PUT") {
      this.routerSeenAt.set(entry.key, Date.now());
      this.lostRouters.delete(entry.key);
    } else {
      // A router that stopped cleanly deleted its key: it is gone now, not in 8 s.
      this.routerSeenAt.set(entry.key, 0);
    }
  }

  private onAgentEntry(entry: KvWatchEntry): void {
    if (isPulseKey(entry.key)) {
      if (entry.key === pulseKeyOf(this.deps.routerName)) this.ownPulseSeenAt = Date.now();
      return;
    }
    const hostname = hostnameOfPresenceKey(entry.key);
    const current = this.remote.get(hostname);
    if (entry.operation !== "PUT") {
      if (current && current.revision < entry.revision) this.remote.delete(hostname);
      this.reclaimIfSwept(hostname, entry.revision);
      return;
    }
    let value: PresenceEntry;
    try {
      value = entry.json<PresenceEntry>();
    } catch {
      return;
    }
    if (value.router === this.deps.routerName) {
      this.remote.delete(hostname);
      // Left by an earlier run of this router (it crashed, and restarted under the same name):
      // no session here is that connection, so nobody holds it. Deleted unless claimed since.
      const local = this.deps.registry.get(hostname);
      if (!local || connectionIdOf(local) !== value.connectionId) {
        this.agents.delete(entry.key, { previousSeq: entry.revision }).catch(() => {});
      }
      return;
    }
    this.remote.set(hostname, { revision: entry.revision, host: this.hostOf(value), instanceId: value.instanceId, credential: value.credential });
    const local = this.deps.registry.get(hostname);
    const published = local && this.published.get(local);
    if (!local || !published) return;
    if (published.revision === undefined) published.claimedElsewhereAt = entry.revision;
    else if (entry.revision > published.revision) this.takenOver(local, `a newer connection to router ${value.router}`);
  }

  /**
   * Another router deleted the entry of an agent still connected here: it took this router for
   * dead (its heartbeats did not get through in time) and swept it. The session is live, so it is
   * written again.
   */
  private reclaimIfSwept(hostname: string, deletedAt: number): void {
    const session = this.deps.registry.get(hostname);
    const published = session && this.published.get(session);
    if (!session || !published || published.gone || published.revision === undefined || deletedAt <= published.revision) return;
    this.deps.log.warn({ hostname }, "agent presence swept by another router while connected here; writing it again");
    // Written again with the next heartbeat (claimAgain), like a write that failed.
    published.revision = undefined;
  }

  /** The agent connected to another router after connecting here: this stream is stale, and ends. */
  private takenOver(session: AgentSession, by: string): void {
    if (this.deps.registry.get(session.hostname) !== session) return;
    const published = this.published.get(session);
    if (published) published.gone = true;
    this.published.delete(session);
    this.deps.registry.unregister(session);
    session.close(`agent disconnected: replaced by ${by}`);
    session.end();
    this.deps.log.warn({ hostname: session.hostname, by }, "agent session taken over by another router");
  }

  private hostOf(value: PresenceEntry): ListedHost {
    return {
      hostname: value.hostname,
      labels: value.labels,
      draining: value.draining,
      inFlight: value.inFlight,
      version: value.version,
      router: value.router,
      connectedSince: new Date(value.connectedSince),
      deliverer: this.deps.delivererOf(value.router),
    };
  }

  private isLive(router: string): boolean {
    const seenAt = this.routerSeenAt.get(router);
    // A router never seen since this one started may simply not have been read yet.
    const since = seenAt ?? (Date.now() - this.startedAt < ROUTER_STALE_AFTER_MS ? Date.now() : 0);
    return Date.now() - since <= ROUTER_STALE_AFTER_MS;
  }

  /** Drops and deletes (compare-and-set) the entries of routers that stopped heartbeating. */
  private sweepStaleRouters(): void {
    // Only while this router's own heartbeat comes back: otherwise the silence is NATS's, not theirs.
    if (this.natsProblem || this.restartingWatches || Date.now() - this.ownHeartbeatSeenAt > 2 * ROUTER_HEARTBEAT_MS) return;
    // Every router ever seen, not only those whose agents are still listed: a dead router's agents
    // usually reconnect elsewhere before it goes stale, and the jobs it coordinated still need ending.
    for (const router of this.routerSeenAt.keys()) {
      if (router !== this.deps.routerName && !this.isLive(router)) this.markLost(router);
    }
    for (const [hostname, entry] of this.remote) {
      const router = entry.host.router;
      if (this.isLive(router)) continue;
      this.markLost(router);
      this.remote.delete(hostname);
      this.agents.delete(presenceKeyOf(hostname), { previousSeq: entry.revision }).catch(() => {});
    }
  }

  private markLost(router: string): void {
    if (this.lostRouters.has(router)) return;
    this.lostRouters.add(router);
    this.deps.log.warn({ router, staleAfterMs: ROUTER_STALE_AFTER_MS }, "router lost: its agents leave the fleet view");
    this.deps.onRouterLost(router);
  }

  /**
   * Opens a bucket, creating it if it is missing: three replicas when the server is part of a
   * cluster (so losing one NATS node loses no presence), one on a lone server.
   */
  private openBucket(name: string, limits: { ttl?: number }): Promise<KV> {
    const kvm = new Kvm(this.deps.nats);
    const replicas = this.deps.nats.info?.cluster ? 3 : 1;
    return whileJetStreamStarts(`open the JetStream bucket ${name}`, async () => {
      try {
        return await kvm.create(name, { history: 1, replicas, ...limits });
      } catch (err) {
        // Created before with other settings (by a router of another version, or an operator): use it as it is.
        const bucket = await kvm.open(name).catch(() => Promise.reject(err));
        await bucket.status().catch(() => Promise.reject(err)); // open() binds without looking: this fails if it is not there
        return bucket;
      }
    });
  }

  /**
   * Follows every change to the bucket, and resolves once the entries it held when the watch
   * began have all been read (their newest revision seen), so the fleet view is whole before the
   * router answers a target with it. A watch that falls behind that by INITIAL_READ_WITHIN_MS
   * still resolves: the view then fills in as entries arrive.
   */
  private async startWatches(): Promise<void> {
    this.watchers.forEach((watcher) => watcher.stop());
    this.watchers = [];
    this.ownHeartbeatSeenAt = this.ownPulseSeenAt = Date.now();
    await this.watch(this.routers, ROUTERS_BUCKET, (entry) => this.onRouterEntry(entry));
    await this.watch(this.agents, AGENTS_BUCKET, (entry) => this.onAgentEntry(entry));
  }

  /**
   * A watch is an ordered push consumer on one NATS node; when that node dies the client notices
   * only after missed idle heartbeats (10 s or more), and events are lost meanwhile. This router's
   * own heartbeat, written every 2 s to both buckets, must come back on both watches: when it has not for
   * WATCH_STALL_MS, both watches are recreated (replaying every key's last value), and until then
   * the fleet view is untrusted, so targets needing it are refused rather than answered stale.
   */
  private restartStalledWatches(): void {
    const lastPulse = Math.min(this.ownHeartbeatSeenAt, this.ownPulseSeenAt);
    if (this.restartingWatches || this.natsProblem || Date.now() - lastPulse <= WATCH_STALL_MS) return;
    this.restartingWatches = true;
    this.deps.log.warn({ stalledMs: Date.now() - lastPulse }, "presence watch stalled; restarting it");
    this.startWatches().then(
      () => (this.restartingWatches = false),
      (err: Error) => {
        this.deps.log.error({ err: err.message }, "presence watch not restarted; retrying");
        this.ownHeartbeatSeenAt = this.ownPulseSeenAt = 0;
        this.restartingWatches = false;
      },
    );
  }

  private async watch(kv: KV, name: string, onEntry: (entry: KvWatchEntry) => void): Promise<void> {
    const { values, streamInfo } = await whileJetStreamStarts(`read the JetStream bucket ${name}`, () => kv.status());
    const lastRevision = streamInfo.state.last_seq;
    let markRead = () => {};
    const read = values === 0 ? Promise.resolve() : new Promise<void>((resolve) => (markRead = resolve));
    const watcher = await whileJetStreamStarts(`watch the JetStream bucket ${name}`, () => kv.watch());
    this.watchers.push(watcher);
    void (async () => {
      for await (const entry of watcher) {
        onEntry(entry);
        if (entry.revision >= lastRevision) markRead();
      }
    })().catch((err) => this.deps.log.error({ err: (err as Error).message, bucket: name }, "presence watch ended"));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([read, new Promise((resolve) => (timer = setTimeout(resolve, INITIAL_READ_WITHIN_MS)))]);
    clearTimeout(timer);
  }

  private watchStatus(): void {
    void (async () => {
      for await (const status of this.deps.nats.status()) {
        if (status.type === "disconnect" || status.type === "reconnecting") {
          this.natsProblem ??= "NATS unreachable (the router lost its connection and is reconnecting)";
        } else if (status.type === "reconnect") {
          this.natsProblem = undefined;
        } else if (status.type === "close") {
          this.natsProblem = "NATS connection closed";
        }
      }
    })();
  }
}

/**
 * A cluster's JetStream needs a few seconds after it starts to elect its leaders, and answers
 * "not enabled" or times out meanwhile: retried for up to BUCKET_READY_WITHIN_MS, then the router
 * refuses to start, naming what it could not do.
 */
async function whileJetStreamStarts<T>(what: string, attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + BUCKET_READY_WITHIN_MS;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`could not ${what}: ${(err as Error).message}`, { cause: err });
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** Which connection of the agent an entry is: its process (instance id) and when this stream began. */
function connectionIdOf(session: AgentSession): string {
  return `${session.identity.instanceId}@${session.connectedSince.getTime()}`;
}
