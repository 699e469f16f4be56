import { Metadata, type ClientDuplexStream, type StatusObject } from "@grpc/grpc-js";
import {
  AgentServiceClient,
  type AgentExecRequest,
  type AgentHello,
  type AgentHeartbeat,
  type AgentMessage,
  type RouterMessage,
} from "../../src/gen/meshexec/v1/agent.js";
import { resolveRouterAddresses, type RouterAddress } from "../../src/config/index.js";
import { DEFAULT_HEARTBEAT_INTERVAL_MS } from "../../src/contract/index.js";
import { GrpcStatus } from "../../src/errors/index.js";
import type { Logger } from "../../src/log/index.js";
import { plaintextDial, type DialCredentials } from "../../src/tls/index.js";
import { backoffDelayMs, grpcConnectionBackoff, type BackoffPolicy } from "./backoff.js";

export interface RouterLinkOptions {
  /** HOST:PORT of each router of the mesh, in the order to try them; or one DNS name that resolves to several. */
  routers: readonly string[];
  /** Sent as `authorization: Bearer …`; unset when the client certificate is the agent's identity. */
  token?: string;
  hello: AgentHello;
  /** Keepalive ping interval; a dead router is noticed within about twice this. */
  keepaliveMs: number;
  /** TLS or mTLS to the router; plaintext h2c when unset. */
  credentials?: DialCredentials;
  log: Logger;
  onExecRequest(request: AgentExecRequest): void;
  onCancelExec(requestId: string): void;
  /** The agent's state, sent as each heartbeat. */
  heartbeat(): AgentHeartbeat;
  backoff?: BackoffPolicy;
}

/**
 * The agent's one outgoing stream to a router: dial, say hello, heartbeat, and when the stream
 * breaks, dial the next router of the list after an exponential backoff with jitter, for as long
 * as the agent runs. It starts with the first router of the list; only one stream is open at a
 * time, so the agent is held by exactly one router, and its presence entry follows it.
 */
export class RouterLink {
  private readonly clients = new Map<string, AgentServiceClient>();
  /** The routers of this round of the list (a DNS name is resolved again at each round), and the one dialled. */
  private candidates: RouterAddress[] = [];
  private next = 0;
  private current?: RouterAddress;
  private stream?: ClientDuplexStream<AgentMessage, RouterMessage>;
  private heartbeatTimer?: NodeJS.Timeout;
  private reconnectTimer?: NodeJS.Timeout;
  private failedAttempts = 0;
  private stopped = false;
  private welcomed = false;
  private readonly onWelcome = new Set<() => void>();

  constructor(private readonly options: RouterLinkOptions) {}

  /** The router this agent is connected to (or dialling). */
  get router(): string | undefined {
    return this.current?.address;
  }

  private clientFor(router: RouterAddress): AgentServiceClient {
    let client = this.clients.get(router.address);
    if (!client) {
      const dial = this.options.credentials ?? plaintextDial;
      // An address found by resolving a name still has its certificate checked against that name.
      const named = router.serverName ? { "grpc.ssl_target_name_override": router.serverName, "grpc.default_authority": router.serverName } : {};
      client = new AgentServiceClient(router.address, dial.credentials, {
        // An explicit --tls-server-name (in dial.options) wins over the name the address came from.
        ...named,
        ...dial.options,
        "grpc.keepalive_time_ms": this.options.keepaliveMs,
        "grpc.keepalive_timeout_ms": this.options.keepaliveMs,
        "grpc.keepalive_permit_without_calls": 1,
        "grpc.max_send_message_length": 64 * 1024 * 1024,
      });
      this.clients.set(router.address, client);
    }
    return client;
  }

  get connected(): boolean {
    return this.welcomed;
  }

  start(): void {
    this.dial();
  }

  /** Resolves once the router has welcomed this agent (now, if it already has). */
  whenConnected(): Promise<void> {
    if (this.welcomed) return Promise.resolve();
    return new Promise((resolve) => this.onWelcome.add(resolve));
  }

  /** Sends a message if the stream is up; returns false (and drops it) if not. */
  send(message: AgentMessage): boolean {
    if (!this.welcomed || !this.stream) return false;
    this.stream.write(message);
    return true;
  }

  sendHeartbeat(): void {
    this.send({ kind: { $case: "heartbeat", value: this.options.heartbeat() } });
  }

  /**
   * Closes the stream for good: no reconnect follows. It half-closes first and waits (up to
   * graceMs) for the router to end the stream, so replies already written reach it.
   */
  async stop(graceMs = 2_000): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.heartbeatTimer);
    const stream = this.stream;
    if (stream) {
      const ended = new Promise((resolve) => stream.once("status", resolve));
      stream.end();
      await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
    }
    this.clients.forEach((client) => client.close());
  }

  /** Dials the next router of the list: the first at the start, and after the one that broke. */
  private dial(): void {
    if (this.next >= this.candidates.length) {
      resolveRouterAddresses(this.options.routers)
        .then((candidates) => {
          if (this.stopped) return;
          this.candidates = candidates;
          this.next = 0;
          this.dialCandidate();
        })
        // Dialling itself failed (metadata it refused, say): said, and tried again as a lost link is.
        .catch((err: unknown) => {
          const retryInMs = backoffDelayMs(this.failedAttempts++, this.options.backoff ?? grpcConnectionBackoff);
          this.options.log.error({ err, retryInMs }, "could not dial the routers; retrying");
          this.reconnectTimer = setTimeout(() => this.dial(), retryInMs);
        });
      return;
    }
    this.dialCandidate();
  }

  private dialCandidate(): void {
    const router = this.candidates[this.next++];
    this.current = router;
    const metadata = new Metadata();
    if (this.options.token !== undefined) metadata.set("authorization", `Bearer ${this.options.token}`);
    const stream = this.clientFor(router).connect(metadata);
    this.stream = stream;
    stream.on("data", (message: RouterMessage) => this.onRouterMessage(message));
    // Every failure also arrives as "status"; this listener only keeps "error" from throwing.
    stream.on("error", () => {});
    stream.on("status", (status: StatusObject) => this.onStreamEnded(stream, status));
    stream.write({ kind: { $case: "hello", value: this.options.hello } });
  }

  private onRouterMessage(message: RouterMessage): void {
    const kind = message.kind;
    // A message without a kind answers a heartbeat; it only keeps proxies from timing the stream out.
    switch (kind?.$case) {
      case "welcome":
        this.welcomed = true;
        this.failedAttempts = 0;
        clearInterval(this.heartbeatTimer);
        this.heartbeatTimer = setInterval(() => this.sendHeartbeat(), kind.value.heartbeatIntervalMs || DEFAULT_HEARTBEAT_INTERVAL_MS);
        this.options.log.info({ router: this.current?.address }, "connected to router");
        this.onWelcome.forEach((resolve) => resolve());
        this.onWelcome.clear();
        return;
      case "execRequest":
        return this.options.onExecRequest(kind.value);
      case "cancelExec":
        return this.options.onCancelExec(kind.value.requestId);
    }
  }

  private onStreamEnded(stream: ClientDuplexStream<AgentMessage, RouterMessage>, status: StatusObject): void {
    if (this.stream !== stream) return;
    this.stream = undefined;
    this.welcomed = false;
    clearInterval(this.heartbeatTimer);
    if (this.stopped) return;
    const delayMs = backoffDelayMs(this.failedAttempts++, this.options.backoff ?? grpcConnectionBackoff);
    // Refusals that waiting alone will not fix are errors: an operator has to act.
    const refusals = [GrpcStatus.UNAUTHENTICATED, GrpcStatus.PERMISSION_DENIED, GrpcStatus.ALREADY_EXISTS, GrpcStatus.INVALID_ARGUMENT];
    const log = refusals.includes(status.code) ? "error" : "warn";
    const nextRouter = this.next < this.candidates.length ? this.candidates[this.next].address : "the first of the list";
    this.options.log[log](
      { router: this.current?.address, code: GrpcStatus[status.code], reason: status.details, retryInMs: delayMs, nextRouter },
      "router link lost; reconnecting",
    );
    this.reconnectTimer = setTimeout(() => this.dial(), delayMs);
  }
}
