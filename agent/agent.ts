import { randomUUID } from "node:crypto";
import { GRANT_CLAIMS } from "../src/auth/exec-grants.js";
import { DEFAULT_KEEPALIVE_MS, matchesAnyGlob } from "../src/contract/index.js";
import { ExecFailureReason, OutputStream, type AgentExecReply, type AgentExecRequest } from "../src/gen/meshexec/v1/agent.js";
import type { Logger } from "../src/log/index.js";
import { traceLogFields } from "../src/trace/index.js";
import type { DialCredentials } from "../src/tls/index.js";
import type { Registry } from "../src/metrics/index.js";
import { AgentMetrics } from "./agent-metrics.js";
import { DEFAULT_MAX_IN_FLIGHT_EXECS, DEFAULT_MAX_QUEUED_EXECS, ExecSlots } from "./exec-slots.js";
import { completedReply, failedReply, failureReply } from "./exec-reply.js";
import { OutputCoalescer } from "./output-coalescer.js";
import { RouterLink } from "./link/index.js";
import { RuntimeFailure, type ContainerRuntime } from "./runtime/index.js";

export interface AgentOptions {
  /** HOST:PORT of each router, in the order to try them (or one DNS name resolving to several). */
  routers: readonly string[];
  hostname: string;
  labels: Record<string, string>;
  /**
   * What the agent presents on Connect: its own token (meshexec token --agent), or the shared
   * join token of a router run with --insecure-join-token. Unset: its client certificate alone.
   */
  token?: string;
  runtime: ContainerRuntime;
  log: Logger;
  version: string;
  maxInFlight?: number;
  maxQueued?: number;
  keepaliveMs?: number;
  /** TLS or mTLS to the router; plaintext h2c when unset. */
  routerCredentials?: DialCredentials;
  /** Where the agent's metrics go, when they are served (--metrics-listen). */
  metrics?: Registry;
}

/**
 * A node agent: keeps its link to the router up and runs each exec the router sends on the
 * node's container runtime, at most maxInFlight at once.
 */
export class Agent {
  readonly link: RouterLink;
  private readonly slots: ExecSlots;
  private readonly running = new Map<string, AbortController>();
  private readonly settled = new Set<Promise<void>>();
  private readonly metrics?: AgentMetrics;
  private draining = false;

  constructor(private readonly options: AgentOptions) {
    this.slots = new ExecSlots(options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT_EXECS, options.maxQueued ?? DEFAULT_MAX_QUEUED_EXECS);
    this.link = new RouterLink({
      routers: options.routers,
      token: options.token,
      hello: { hostname: options.hostname, labels: options.labels, version: options.version, instanceId: randomUUID() },
      keepaliveMs: options.keepaliveMs ?? DEFAULT_KEEPALIVE_MS,
      credentials: options.routerCredentials,
      log: options.log,
      onExecRequest: (request) => this.track(this.serve(request)),
      onCancelExec: (requestId) => this.running.get(requestId)?.abort(),
      heartbeat: () => ({ inFlight: this.slots.inUse, draining: this.draining }),
    });
    if (options.metrics) {
      this.metrics = new AgentMetrics(options.metrics, { inFlight: () => this.slots.inUse, connected: () => this.link.connected });
    }
  }

  start(): this {
    this.link.start();
    return this;
  }

  /** Takes no new execs, tells the router, lets those in flight finish (up to graceMs), then disconnects. */
  async drain(graceMs: number): Promise<void> {
    this.draining = true;
    this.link.sendHeartbeat();
    await Promise.race([Promise.allSettled([...this.settled]), new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
    this.running.forEach((controller) => controller.abort());
    await this.link.stop();
  }

  private async serve(request: AgentExecRequest): Promise<void> {
    const started = performance.now();
    const reply = await this.answer(request);
    this.metrics?.observeReply(reply, (performance.now() - started) / 1000);
    this.link.send({ kind: { $case: "execReply", value: reply } });
  }

  private async answer(request: AgentExecRequest): Promise<AgentExecReply> {
    const { requestId } = request;
    if (this.draining) {
      return failedReply(requestId, ExecFailureReason.EXEC_FAILURE_REASON_DRAINING, `agent ${this.options.hostname} is draining`);
    }
    const release = await this.slots.acquire();
    if (!release) {
      const message = `agent ${this.options.hostname} is at its limit of ${this.slots.maxRunning} running and ${this.slots.maxQueued} queued execs`;
      return failedReply(requestId, ExecFailureReason.EXEC_FAILURE_REASON_OVERLOADED, message);
    }
    const controller = new AbortController();
    this.running.set(requestId, controller);
    // Fields, not a child logger: a child costs its bindings' serialisation on every exec, logged or not.
    const execFields = { ...(request.trace && traceLogFields(request.trace)), container: request.containerId };
    const live = request.streamOutput ? this.liveOutputOf(requestId) : undefined;
    try {
      const containerId = await this.containerToRun(request);
      const run = await this.options.runtime.exec(
        {
          containerId,
          command: request.command,
          env: request.env,
          workingDir: request.workingDir,
          timeoutMs: request.timeoutMs,
          stdin: request.stdin,
          onOutput: live && ((stream, chunk) => live.push(stream, chunk)),
        },
        controller.signal,
      );
      this.options.log.info({ ...execFields, exitCode: run.exitCode, timedOut: run.timedOut, durationMs: run.durationMs }, "exec finished");
      return completedReply(requestId, run);
    } catch (err) {
      const reply = failureReply(requestId, err);
      // The agent's own failures are logged with their error, whose cause (the engine's) pino prints
      // as "caused by:"; the caller's (no such container, not running, not allowed) by message alone.
      const ownFault = !(err instanceof RuntimeFailure) || err.reason === "internal" || err.reason === "engine-unavailable";
      const failed = reply.outcome?.$case === "failed" ? reply.outcome.value.message : "";
      this.options.log.info({ ...execFields, failed, ...(ownFault && { err }) }, "exec refused");
      return reply;
    } finally {
      // Every piece goes up before the reply, so the router has all of a host's output before its result.
      live?.close();
      this.running.delete(requestId);
      release();
    }
  }

  /** Sends the exec's output up the link as the command writes it, gathered into pieces. */
  private liveOutputOf(requestId: string): OutputCoalescer {
    return new OutputCoalescer((stream, data) =>
      this.link.send({
        kind: {
          $case: "execOutput",
          value: { requestId, stream: stream === "stdout" ? OutputStream.OUTPUT_STREAM_STDOUT : OutputStream.OUTPUT_STREAM_STDERR, data },
        },
      }),
    );
  }

  /**
   * The container to exec in: as the caller named it when its token does not restrict
   * containers; otherwise the engine's full id for it, once its real name matches an allowed
   * glob. The name is checked, not what the caller typed, so a 3-character id prefix reaches only
   * an allowed container; and the exec goes to the full id, so the container checked is the one
   * that runs. Costs one container inspect, only for restricted tokens.
   */
  private async containerToRun(request: AgentExecRequest): Promise<string> {
    if (request.allowedContainers.length === 0) return request.containerId;
    const container = await this.options.runtime.resolve(request.containerId);
    if (!matchesAnyGlob(request.allowedContainers, container.name)) {
      // The real name is not told: the caller may not know it, and is not allowed to use it.
      throw new RuntimeFailure(
        "container-not-allowed",
        `container "${request.containerId}" is outside the token's "${GRANT_CLAIMS.containers}" claim; nothing ran`,
      );
    }
    return container.id;
  }

  private track(work: Promise<void>): void {
    this.settled.add(work);
    work.finally(() => this.settled.delete(work));
  }
}
