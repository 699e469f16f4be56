import { Metadata, type ClientDuplexStream, type StatusObject } from "@grpc/grpc-js";
import {
  AgentServiceClient,
  type AgentExecRequest,
  type AgentHello,
  type AgentHeartbeat,
  type AgentMessage,
  type RouterMessage,
} from "../../src/gen/meshexec/v1/agent.js";
import { DEFAULT_HEARTBEAT_INTERVAL_MS } from "../../src/contract/index.js";
import { GrpcStatus } from "../../src/errors/index.js";
import type { Logger } from "../../src/log/index.js";
import { plaintextDial, type DialCredentials } from "../../src/tls/index.js";
import { backoffDelayMs, grpcConnectionBackoff, type BackoffPolicy } from "./backoff.js";

export interface RouterLinkOptions {
  /** HOST:PORT of the router. */
  router: string;
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
 * The agent's one outgoing stream to the router: dial, say hello, heartbeat, and when the
 * stream breaks, dial again after an exponential backoff with jitter, for as long as the agent runs.
 */
export class RouterLink {
  private readonly client: AgentServiceClient;
  private stream?: ClientDuplexStream<AgentMessage, RouterMessage>;
  private heartbeatTimer?: NodeJS.Timeout;
  private reconnectTimer?: NodeJS.Timeout;
  private failedAttempts = 0;
  private stopped = false;
  private welcomed = false;
  private readonly onWelcome = new Set<() => void>();

  constructor(private readonly options: RouterLinkOptions) {
    const dial = options.credentials ?? plaintextDial;
    this.client = new AgentServiceClient(options.router, dial.credentials, {
      ...dial.options,
      "grpc.keepalive_time_ms": options.keepaliveMs,
      "grpc.keepalive_timeout_ms": options.keepaliveMs,
      "grpc.keepalive_permit_without_calls": 1,
      "grpc.max_send_message_length": 64 * 1024 * 1024,
    });
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
    this.client.close();
  }

  private dial(): void {
    const metadata = new Metadata();
    if (this.options.token !== undefined) metadata.set("authorization", `Bearer ${this.options.token}`);
    const stream = this.client.connect(metadata);
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
        this.options.log.info({ router: this.options.router }, "connected to router");
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
    this.options.log[log]({ code: GrpcStatus[status.code], reason: status.details, retryInMs: delayMs }, "router link lost; reconnecting");
    this.reconnectTimer = setTimeout(() => this.dial(), delayMs);
  }
}
