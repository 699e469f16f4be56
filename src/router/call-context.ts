import type { Metadata, ServerUnaryCall } from "@grpc/grpc-js";
import { continueTrace, type TraceContext } from "../trace/index.js";

/** What the router knows about who is calling, read from the call's metadata once. */
export interface CallContext {
  authorization?: string;
  /** The caller's x-request-id and traceparent/tracestate, continued for this hop (made here when absent). */
  trace: TraceContext;
  /** The client as the edge saw it (x-forwarded-for), then the gRPC peer. */
  sourceAddress: string;
}

export function callContextOf(call: Pick<ServerUnaryCall<unknown, unknown>, "metadata" | "getPeer">): CallContext {
  const forwardedFor = first(call.metadata, "x-forwarded-for");
  const peer = call.getPeer();
  return {
    authorization: first(call.metadata, "authorization"),
    trace: continueTrace({
      requestId: first(call.metadata, "x-request-id"),
      traceparent: first(call.metadata, "traceparent"),
      tracestate: first(call.metadata, "tracestate"),
    }),
    sourceAddress: forwardedFor ? `${forwardedFor} via ${peer}` : peer,
  };
}

function first(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === "string" && value !== "" ? value : undefined;
}
