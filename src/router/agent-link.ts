import type { ServerDuplexStream } from "@grpc/grpc-js";
import { AgentServiceService, type AgentMessage, type RouterMessage } from "../gen/meshexec/v1/agent.js";
import { agentHelloLimits } from "../contract/index.js";
import { MeshError, GrpcStatus, asMeshError, toStatusObject } from "../errors/index.js";
import type { Logger } from "../log/index.js";
import { HelloRefused, authenticateAgent, authorizeHello, type AgentAuthenticationOptions, type AgentCredential } from "./agent-authentication.js";
import { AgentSession, type AgentIdentity } from "./agent-session.js";
import type { AgentRegistry } from "./registry.js";
import { validateHello } from "./validate-hello.js";

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
  /** How agents prove who they are, and the revoked hostnames. */
  authentication: AgentAuthenticationOptions;
  heartbeatIntervalMs: number;
  /** This router's name (--name), which each session names as its holder. */
  routerName: string;
  log: Logger;
}

/**
 * Serves AgentService.Connect: authenticates the agent (its own token or client certificate),
 * waits for the hello (at most agentHelloLimits.helloDeadlineMs), checks it against its bounds and
 * the credential, registers the session, then routes heartbeats and exec replies until the
 * stream ends. When it ends, every exec still in flight on it completes at once as "agent disconnected".
 */
export function createAgentLinkHandler(deps: AgentLinkDeps) {
  const { registry, log } = deps;
  return (stream: ServerDuplexStream<AgentMessage, RouterMessage>): void => {
    const peer = stream.getPeer();
    let refused = false;
    const refuse = (err: MeshError) => {
      if (refused) return;
      refused = true;
      const asked = err instanceof HelloRefused ? err.refusal : {};
      log.warn({ peer, code: GrpcStatus[err.code], reason: err.details, ...asked }, "agent refused");
      stream.emit("error", toStatusObject(err));
    };
    // A stream that never says hello would otherwise hold its connection and buffers for ever.
    const helloTimer = setTimeout(() => {
      const seconds = agentHelloLimits.helloDeadlineMs / 1000;
      refuse(new MeshError(GrpcStatus.DEADLINE_EXCEEDED, "no hello", `the agent sent no valid hello within ${seconds} s of connecting`));
    }, agentHelloLimits.helloDeadlineMs);
    const credential = authenticateAgent(deps.authentication, {
      metadata: stream.metadata,
      peerCertificate: stream.getAuthContext()?.sslPeerCertificate,
    });
    // Refused at once, before any hello; the hello handler below awaits the same promise.
    credential.catch((err) => refuse(asMeshError(err)));

    let session: AgentSession | undefined;
    let helloSeen = false;
    const admit = async (identity: AgentIdentity, proven: AgentCredential) => {
      await authorizeHello(proven, identity, deps.authentication.revocations);
      // Checked after the revocation lookup: the stream may have been refused (hello timeout) or gone while it ran.
      if (refused || closed) return;
      // Only a registered session is this stream's: a refused one must not unregister or close anything when the stream ends.
      const candidate = new AgentSession(identity, stream, proven, peer, deps.routerName);
      const replaced = registry.register(candidate);
      session = candidate;
      clearTimeout(helloTimer);
      if (replaced) {
        replaced.close("agent disconnected: replaced by a new connection for the same hostname");
        replaced.end();
        log.warn(
          {
            hostname: identity.hostname,
            peer,
            previousPeer: replaced.peer,
            credential: proven.kind,
            reason: replaced.identity.instanceId === identity.instanceId ? "same agent reconnecting" : "previous session silent",
            previousSilentMs: Date.now() - replaced.lastHeardAt,
          },
          "agent session taken over",
        );
      }
      stream.write({ kind: { $case: "welcome", value: { heartbeatIntervalMs: deps.heartbeatIntervalMs } } });
      log.info(
        { peer, hostname: session.hostname, labels: session.identity.labels, version: session.identity.version, credential: proven.kind },
        "agent connected",
      );
    };

    const onMessage = (message: AgentMessage) => {
      const kind = message.kind;
      if (!session) {
        if (helloSeen) throw new MeshError(GrpcStatus.FAILED_PRECONDITION, "protocol error", "nothing may follow the hello until the router's welcome");
        if (kind?.$case !== "hello") throw new MeshError(GrpcStatus.FAILED_PRECONDITION, "protocol error", "the first message must be a hello");
        helloSeen = true;
        const identity = validateHello(kind.value);
        credential.then(
          (proven) => admit(identity, proven).catch((err) => refuse(asMeshError(err))),
          () => {},
        );
        return;
      }
      switch (kind?.$case) {
        case "heartbeat":
          return session.heartbeat(kind.value);
        case "execReply":
          session.lastHeardAt = Date.now();
          if (!session.settle(kind.value)) log.debug({ hostname: session.hostname, requestId: kind.value.requestId }, "late exec reply dropped");
          return;
        case "execOutput":
          // Output for an exec nobody waits for any more (or that did not ask for it) is dropped; the reply carries it all anyway.
          session.lastHeardAt = Date.now();
          session.output(kind.value);
          return;
        default:
          throw new MeshError(GrpcStatus.FAILED_PRECONDITION, "protocol error", `unexpected ${kind?.$case ?? "empty"} message`);
      }
    };

    stream.on("data", (message: AgentMessage) => {
      if (refused) return;
      try {
        onMessage(message);
      } catch (err) {
        refuse(asMeshError(err));
      }
    });
    let closed = false;
    const onGone = () => {
      clearTimeout(helloTimer);
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
