import { Server, ServerCredentials, setLogger, type ChannelOptions, type ServiceDefinition } from "@grpc/grpc-js";
import { format } from "node:util";
import { HealthImplementation } from "grpc-health-check";
import { AuditServiceService } from "../gen/meshexec/v1/audit.js";
import { ExecServiceService } from "../gen/meshexec/v1/exec.js";
import { JobServiceService } from "../gen/meshexec/v1/jobs.js";
import { TokenServiceService } from "../gen/meshexec/v1/tokens.js";
import type { TokenVerifier } from "../auth/index.js";
import { AGENTS_HEALTH_SERVICE, DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_KEEPALIVE_MS, DEFAULT_OUTPUT_LIMIT_BYTES, execLimits } from "../contract/index.js";
import { listenErrorOf } from "../errors/index.js";
import type { Logger } from "../log/index.js";
import { RouterMetrics, createMetricsRegistry, grpcServerMetricsInterceptor, type Registry } from "../metrics/index.js";
import type { Stores } from "../store/index.js";
import type { NatsConnection } from "@nats-io/transport-node";
import { FleetView } from "./fleet-view.js";
import { joinMesh, type Mesh } from "./mesh/join-mesh.js";
import { agentLinkService, createAgentLinkHandler } from "./agent-link.js";
import { createAuditService } from "./audit-service.js";
import { ExecJobs } from "./exec-jobs.js";
import { createExecService } from "./exec-service.js";
import { guardHalfSentCalls } from "./half-sent-calls.js";
import { createJobService } from "./job-service.js";
import { RunningJobs } from "./job-cancellation.js";
import { limitRequestSize, refuseOversizedMessages } from "./message-size-limit.js";
import { addReflection } from "./reflection.js";
import { AgentsReadiness, DEFAULT_READINESS, type ReadinessConfig } from "./agents-readiness.js";
import { AgentRegistry } from "./registry.js";
import type { SubjectLimitsConfig } from "./subject-limits.js";
import { execAdmissionFor } from "./exec-admission.js";
import { createTokenService } from "./token-service.js";

export interface RouterOptions {
  /** This router's name in the mesh (--name): its jobs carry it, ListAgents and presence name it, its NATS subjects hold it. */
  name: string;
  /** Joins the mesh of routers on this NATS connection; a lone router when unset. */
  nats?: NatsConnection;
  host: string;
  port: number;
  verifier: TokenVerifier;
  /**
   * The shared join token that lets any agent claim any hostname and labels: only for
   * `--insecure-join-token`. Agents otherwise present their own token or client certificate.
   */
  insecureJoinToken?: string;
  /** Set when `credentials` require client certificates: an agent's certificate then names its hostname. */
  trustClientCertificates?: boolean;
  /** Where jobs and the audit log are kept. */
  stores: Stores;
  /** Finished jobs older than this are pruned. */
  jobTtlMs?: number;
  /** The longest a caller token may live: a revocation is kept this long, and then pruned. */
  maxTokenLifetimeMs: number;
  /** Per-subject limits on execs. */
  subjectLimits: SubjectLimitsConfig;
  /** Audit entries older than this are pruned; at least AUDIT_PRUNE_FLOOR_MS (the store refuses fresher deletions). */
  auditTtlMs: number;
  /** The agents' --output-limit: more of a stream is not kept, and a reply past twice this (plus a margin) is refused. */
  agentOutputLimitBytes?: number;
  /** Bytes of output one exec keeps over all its hosts; hosts past it are truncated. */
  maxFanoutOutputBytes?: number;
  /** Serve gRPC server reflection (on unless --no-reflection). */
  reflection?: boolean;
  /** Where the router's metrics go; served by whoever owns it (--metrics-listen). */
  metrics?: Registry;
  log: Logger;
  heartbeatIntervalMs?: number;
  /** Keepalive ping interval; a dead peer is noticed within about twice this. */
  keepaliveMs?: number;
  /** TLS, or mTLS when it requires client certificates; plaintext h2c when unset. */
  credentials?: ServerCredentials;
  /** What `meshexec.agents` (the edge's /ready) waits for at start; one agent when unset. */
  readiness?: ReadinessConfig;
}

export interface RunningRouter {
  port: number;
  registry: AgentRegistry;
  fleet: FleetView;
  /** Stops taking execs, lets those in flight finish (up to graceMs), then closes every stream. */
  stop(graceMs: number): Promise<void>;
}

const SERVICE_NAMES = [
  "",
  "meshexec.v1.ExecService",
  "meshexec.v1.AgentService",
  "meshexec.v1.JobService",
  "meshexec.v1.AuditService",
  "meshexec.v1.TokenService",
];
const PRUNE_EVERY_MS = 3_600_000;
/** More than the verifier's clock skew (30 s), so a revocation outlives its token everywhere. */
const REVOCATION_MARGIN_MS = 3_600_000;

/** Finished jobs older than this are pruned (--job-ttl). */
export const DEFAULT_JOB_TTL_MS = 7 * 86_400_000;

/** What one exec keeps of its hosts' output by default (--max-fanout-output): 64 full 1 MiB hosts, or 32,000 hosts' 2 KiB. */
export const DEFAULT_MAX_FANOUT_OUTPUT_BYTES = 64 * 1024 * 1024;
/** An agent's reply is its two capped streams plus this, for the error text and the protobuf framing. */
const AGENT_REPLY_MARGIN_BYTES = 64 * 1024;
/**
 * Streams one connection may have open at once. The edge sends every REST call over one
 * connection, so this is far above what it needs (bench: 32 in flight), while a single peer can
 * hold at most this many streams, each bounded in time by guardHalfSentCalls.
 */
const MAX_CONCURRENT_STREAMS = 1_000;

export async function startRouter(options: RouterOptions): Promise<RunningRouter> {
  // grpc-js writes its errors to stderr as plain text ("E No address added…" for a busy port, which
  // the ListenError says better): they go to the router's log instead, as JSON lines like the rest.
  setLogger({ error: (...args: unknown[]) => options.log.warn({ grpc: format(...args) }, "grpc-js reported an error") });
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
  const keepaliveMs = options.keepaliveMs ?? DEFAULT_KEEPALIVE_MS;
  const health = new HealthImplementation({
    ...Object.fromEntries(SERVICE_NAMES.map((name) => [name, "SERVING"])),
    [AGENTS_HEALTH_SERVICE]: "NOT_SERVING",
  });
  const metricsRegistry = options.metrics ?? createMetricsRegistry();
  const metrics = new RouterMetrics(metricsRegistry);
  const readiness = new AgentsReadiness(options.readiness ?? DEFAULT_READINESS, (ready) =>
    health.setStatus(AGENTS_HEALTH_SERVICE, ready ? "SERVING" : "NOT_SERVING"),
  );
  const registry = new AgentRegistry(3 * heartbeatIntervalMs, (agents) => {
    metrics.agentsConnected.set(agents);
    readiness.agentsConnected(agents);
  });
  const inFlight = new Set<Promise<unknown>>();
  let draining = false;

  const { jobs, audit, tokenRevocations, agentRevocations } = options.stores;
  // A lone router's store is its own (its name may change with its host between runs): its jobs carry no name.
  const jobsRouter = options.stores.shared ? options.name : "";
  // Only this router's: in a mesh, other routers' running jobs are theirs (or, once they die, the survivors') to end.
  const interrupted = await jobs.failRunningOf(jobsRouter, "router restarted");
  // Its execs that were running when it stopped are not running now: their slots of the shared limits go back.
  await options.stores.sharedAdmissions?.releaseAllOf(jobsRouter);
  if (interrupted > 0) options.log.warn({ jobs: interrupted, router: options.name }, "jobs left running by this router's last run marked failed");
  const prune = async () => {
    await jobs.pruneBefore(new Date(Date.now() - (options.jobTtlMs ?? DEFAULT_JOB_TTL_MS)));
    const auditPruned = await audit.pruneBefore(new Date(Date.now() - options.auditTtlMs));
    if (auditPruned > 0) options.log.info({ entries: auditPruned }, "audit entries past --audit-ttl pruned");
    // Past this, every token a revocation could refuse has expired (its clock skew included).
    await tokenRevocations.pruneBefore(new Date(Date.now() - options.maxTokenLifetimeMs - REVOCATION_MARGIN_MS));
  };
  const pruneLogged = () => prune().catch((err) => options.log.warn({ err }, "pruning jobs, audit entries and revocations failed; retried within the hour"));
  await pruneLogged();
  const pruneTimer = setInterval(pruneLogged, PRUNE_EVERY_MS).unref();

  const track = <T>(work: Promise<T>) => {
    inFlight.add(work);
    return work.finally(() => inFlight.delete(work));
  };
  const hostOutputLimitBytes = options.agentOutputLimitBytes ?? DEFAULT_OUTPUT_LIMIT_BYTES;
  const runningJobs = new RunningJobs();
  const mesh: Mesh | undefined = options.nats
    ? await joinMesh({
        nats: options.nats,
        routerName: options.name,
        registry,
        isDraining: () => draining,
        // The jobs it coordinated were running on a router that is gone: nobody will finish them.
        onRouterLost: (name) => {
          void jobs.failRunningOf(name, `router lost: ${name}`).then(
            (failed) => failed > 0 && options.log.warn({ router: name, jobs: failed }, "jobs of a lost router marked failed"),
            (err) => options.log.error({ err, router: name }, "could not mark a lost router's jobs failed"),
          );
          void options.stores.sharedAdmissions?.releaseAllOf(name).then(
            (released) => released > 0 && options.log.warn({ router: name, slots: released }, "exec slots of a lost router given back to its subjects"),
            (err) => options.log.error({ err, router: name }, "could not give a lost router's exec slots back"),
          );
        },
        cancelJobHere: (jobId, cancelledBy) => runningJobs.cancel(jobId, cancelledBy),
        log: options.log,
      })
    : undefined;
  const fleet = new FleetView(registry, mesh?.remote);
  const execJobs = new ExecJobs({
    routerName: jobsRouter,
    fleet,
    jobs,
    track,
    metrics,
    log: options.log,
    hostOutputLimitBytes,
    totalOutputLimitBytes: options.maxFanoutOutputBytes ?? DEFAULT_MAX_FANOUT_OUTPUT_BYTES,
    running: runningJobs,
  });
  const verifier = options.verifier;
  const log = options.log;

  // Callers' messages are bounded like the REST body; agents' replies by their two capped streams.
  const callerMessageLimit = execLimits.maxBodyBytes;
  const agentMessageLimit = 2 * hostOutputLimitBytes + AGENT_REPLY_MARGIN_BYTES;
  const server = new Server({
    ...serverOptions(keepaliveMs, Math.max(callerMessageLimit, agentMessageLimit)),
    // The first is innermost: the metrics interceptor sees the status the others answer with.
    interceptors: [grpcServerMetricsInterceptor(metricsRegistry), refuseOversizedMessages(log), guardHalfSentCalls({ verifier, audit: { audit, log } })],
  });
  const limits = execAdmissionFor(options.stores, options.name, options.subjectLimits, log);
  const callerService = <S extends ServiceDefinition>(service: S) => limitRequestSize(service, callerMessageLimit);
  server.addService(
    callerService(ExecServiceService),
    createExecService({
      registry,
      fleet,
      announceRevocation: mesh?.announceRevocation,
      jobs: execJobs,
      audit,
      agentRevocations,
      verifier,
      limits,
      log,
      isDraining: () => draining,
    }),
  );
  server.addService(
    callerService(JobServiceService),
    createJobService({ jobs, verifier, log, audit, running: runningJobs, routerName: jobsRouter, cancelJobOn: mesh?.cancelJobOn }),
  );
  server.addService(callerService(TokenServiceService), createTokenService({ revocations: tokenRevocations, audit, verifier, log }));
  server.addService(callerService(AuditServiceService), createAuditService({ audit, verifier, log }));
  server.addService(limitRequestSize(agentLinkService, agentMessageLimit), {
    connect: createAgentLinkHandler({
      registry,
      authentication: {
        verifier,
        revocations: agentRevocations,
        insecureJoinToken: options.insecureJoinToken,
        trustClientCertificates: options.trustClientCertificates ?? false,
      },
      heartbeatIntervalMs,
      routerName: options.name,
      log,
    }),
  });
  health.addToServer(server);
  if (options.reflection ?? true) addReflection(server);

  const address = `${formatHost(options.host)}:${options.port}`;
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, options.credentials ?? ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(listenErrorOf(address, err)) : resolve(bound),
    ),
  ).catch(async (err: unknown) => {
    clearInterval(pruneTimer);
    server.forceShutdown();
    // Joined before listening: left running, it would keep heartbeating a router that never served.
    await mesh?.stop();
    throw err;
  });
  options.log.info({ address: `${formatHost(options.host)}:${port}`, port }, "router listening");

  return {
    port,
    registry,
    fleet,
    async stop(graceMs) {
      draining = true;
      readiness.drain();
      SERVICE_NAMES.forEach((name) => health.setStatus(name, "NOT_SERVING"));
      await Promise.race([Promise.allSettled([...inFlight]), delay(graceMs)]);
      await mesh?.stop();
      registry.list().forEach((session) => session.end());
      clearInterval(pruneTimer);
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 1_000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}

/**
 * Keepalive that works behind Envoy and nginx: we ping every keepaliveMs and drop a peer that
 * does not answer within keepaliveMs, and we accept agents' pings as often as every 5 s even
 * on an idle stream (grpc's default would answer them with GOAWAY too_many_pings).
 */
function serverOptions(keepaliveMs: number, maxMessageBytes: number): ChannelOptions {
  return {
    "grpc.keepalive_time_ms": keepaliveMs,
    "grpc.keepalive_timeout_ms": keepaliveMs,
    "grpc.keepalive_permit_without_calls": 1,
    "grpc.http2.min_ping_interval_without_data_ms": 5_000,
    // The largest message any service takes; each service's own limit is checked by limitRequestSize.
    "grpc.max_receive_message_length": maxMessageBytes,
    "grpc.max_concurrent_streams": MAX_CONCURRENT_STREAMS,
    // The router serves no channelz service, so nobody could read what grpc-js would track per
    // connection, stream and message: with 1,000 agents that was 2 MiB of live heap.
    "grpc.enable_channelz": 0,
  };
}

function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
