import type { ServerDuplexStream } from "@grpc/grpc-js";
import { AgentServiceService, type AgentHello, type AgentMessage, type RouterMessage } from "../gen/meshexec/v1/agent.js";
import { joinTokenMatches } from "../auth/index.js";
import { MeshError, GrpcStatus, asMeshError, toStatusObject } from "../errors/index.js";
import type { Logger } from "../log/index.js";
import { AgentSession } from "./agent-session.js";
import type { AgentRegistry } from "./registry.js";
import { isHostname } from "./target.js";

/**
 * AgentService as the router serves it: a fan-out writes one request message object to every
 * agent's stream (execRequestOf), so the stream's serializer encodes a message only when it is
 * not the one it encoded last, instead of once per agent. Messages to agents are never changed
 * once written, so the same object always means the same bytes.
 */
export const agentLinkService = {
  ...AgentServiceService,
  connect: { ...AgentServiceService.connect, responseSerialize: reuseLastEncoding(AgentServiceService.connect.responseSerialize) },
};

function reuseLastEncoding(serialize: (message: RouterMessage) => Buffer): (message: RouterMessage) => Buffer {
  let last: { message: RouterMessage; encoded: Buffer } | undefined;
  return (message) => {
    if (last?.message !== message) last = { message, encoded: serialize(message) };
    return last.encoded;
  };
}

export interface AgentLinkDeps {
  registry: AgentRegistry;
  joinToken: string;
  heartbeatIntervalMs: number;
  log: Logger;
}

/**
 * Serves AgentService.Connect: checks the join token, waits for the hello, registers the
 * session, then routes heartbeats and exec replies until the stream ends. When it ends, every
 * exec still in flight on it completes at once as "agent disconnected".
 */
export function createAgentLinkHandler(deps: AgentLinkDeps) {
  const { registry, log } = deps;
  return (stream: ServerDuplexStream<AgentMessage, RouterMessage>): void => {
    const peer = stream.getPeer();
    const refuse = (err: MeshError) => {
      log.warn({ peer, code: GrpcStatus[err.code], reason: err.details }, "agent refused");
      stream.emit("error", toStatusObject(err));
    };
    if (!joinTokenMatches(deps.joinToken, bearerOf(stream.metadata.get("authorization")[0]))) {
      return refuse(new MeshError(GrpcStatus.UNAUTHENTICATED, "unauthenticated", "the agent's join token is missing or wrong"));
    }

    let session: AgentSession | undefined;
    const onMessage = (message: AgentMessage) => {
      const kind = message.kind;
      if (!session) {
        if (kind?.$case !== "hello") throw new MeshError(GrpcStatus.FAILED_PRECONDITION, "protocol error", "the first message must be a hello");
        // Only a registered session is this stream's: a refused one must not unregister or close anything when the stream ends.
        const candidate = new AgentSession(identityOf(kind.value), stream);
        const replaced = registry.register(candidate);
        session = candidate;
        replaced?.close("agent disconnected: replaced by a new connection for the same hostname");
        replaced?.end();
        stream.write({ kind: { $case: "welcome", value: { heartbeatIntervalMs: deps.heartbeatIntervalMs } } });
        log.info({ peer, hostname: session.hostname, labels: session.identity.labels, version: session.identity.version }, "agent connected");
        return;
      }
      switch (kind?.$case) {
        case "heartbeat":
          return session.heartbeat(kind.value);
        case "execReply":
          session.lastHeardAt = Date.now();
          if (!session.settle(kind.value)) log.debug({ hostname: session.hostname, requestId: kind.value.requestId }, "late exec reply dropped");
          return;
        default:
          throw new MeshError(GrpcStatus.FAILED_PRECONDITION, "protocol error", `unexpected ${kind?.$case ?? "empty"} message`);
      }
    };

    stream.on("data", (message: AgentMessage) => {
      try {
        onMessage(message);
      } catch (err) {
        refuse(asMeshError(err));
      }
    });
    let closed = false;
    const onGone = () => {
      if (closed) return;
      closed = true;
      if (!session) return;
      registry.unregister(session);
      session.close("agent disconnected");
      log.info({ peer, hostname: session.hostname }, "agent disconnected");
    };
    stream.on("end", () => {
      onGone();
      stream.end();
    });
    stream.on("cancelled", onGone);
    stream.on("close", onGone);
    stream.on("error", onGone);
  };
}

function identityOf(hello: AgentHello) {
  if (!isHostname(hello.hostname)) {
    throw new MeshError(GrpcStatus.INVALID_ARGUMENT, "invalid hostname", `agent hostname "${hello.hostname}" is not an RFC 1123 hostname`);
  }
  return { hostname: hello.hostname, labels: hello.labels, version: hello.version, instanceId: hello.instanceId };
}

function bearerOf(header: unknown): string | undefined {
  return typeof header === "string" ? header.replace(/^Bearer\s+/i, "") : undefined;
}
