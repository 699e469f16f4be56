import { ServerInterceptingCall, type ServerInterceptor, type ServiceDefinition } from "@grpc/grpc-js";
import { GrpcStatus, MeshError, toStatusObject } from "../errors/index.js";
import type { Logger } from "../log/index.js";

/** Stands in for a request message over its service's limit: refuseOversizedMessages answers it before any handler sees it. */
class OversizedMessage {
  constructor(
    readonly bytes: number,
    readonly limitBytes: number,
  ) {}
}

/**
 * The service with a limit on each request message it takes. grpc-js has one receive limit for
 * the whole server (set to the largest of these, so a message past every limit is refused from
 * its length prefix before it is buffered); this makes it per service. A deserializer that throws
 * would answer INTERNAL "Error deserializing request", so an oversized message is decoded as an
 * OversizedMessage instead, and refuseOversizedMessages answers it RESOURCE_EXHAUSTED.
 */
export function limitRequestSize<S extends ServiceDefinition>(service: S, limitBytes: number): S {
  return Object.fromEntries(
    Object.entries(service).map(([name, method]) => [
      name,
      {
        ...method,
        requestDeserialize: (buffer: Buffer) =>
          buffer.length > limitBytes ? new OversizedMessage(buffer.length, limitBytes) : method.requestDeserialize(buffer),
      },
    ]),
  ) as S;
}

/** Ends a call whose request message was over its service's limit with RESOURCE_EXHAUSTED, logged at warn with the peer. */
export function refuseOversizedMessages(log: Logger): ServerInterceptor {
  return (method, call) => {
    let refused = false;
    const intercepting: ServerInterceptingCall = new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          // The handler never saw the message, so it must not hear the call end either.
          onReceiveHalfClose: (nextHalfClose) => void (refused || nextHalfClose()),
          onReceiveMessage: (message, nextMessage) => {
            if (!(message instanceof OversizedMessage)) return nextMessage(message);
            refused = true;
            log.warn({ peer: call.getPeer(), method: method.path, bytes: message.bytes, limitBytes: message.limitBytes }, "oversized message refused");
            const details = `a ${method.path} request message may be at most ${message.limitBytes} bytes; this one is ${message.bytes}`;
            intercepting.sendStatus(toStatusObject(new MeshError(GrpcStatus.RESOURCE_EXHAUSTED, "message too large", details)));
          },
        }),
    });
    return intercepting;
  };
}
