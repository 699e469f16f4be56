import type { Metadata, ServerUnaryCall } from "@grpc/grpc-js";
import { requiredScopeByMethod, type TokenVerifier } from "../auth/index.js";
import { EDGE_AUTHORIZATION_METADATA } from "../contract/index.js";
import { continueTrace, type TraceContext } from "../trace/index.js";

/** What the router knows about who is calling, read from the call's metadata once. */
export interface CallContext {
  authorization?: string;
  /** The caller's x-request-id and traceparent/tracestate, continued for this hop (made here when absent). */
  trace: TraceContext;
  /** The client as an authenticated edge saw it (x-forwarded-for), then the gRPC peer; the peer alone otherwise. */
  sourceAddress: string;
}

type CallWithMetadata = Pick<ServerUnaryCall<unknown, unknown>, "metadata" | "getPeer">;

/**
 * `edgeAuthorization` is the credential that vouches for x-forwarded-for: on RecordEdgeRefusal it
 * is the call's own `authorization` (the edge is the caller), on forwarded calls the edge's
 * separate metadata key. Anyone can send x-forwarded-for; only a token with `audit:record` makes
 * the router believe it.
 */
export async function callContextOf(
  call: CallWithMetadata,
  verifier: TokenVerifier,
  edgeAuthorization = first(call.metadata, EDGE_AUTHORIZATION_METADATA),
): Promise<CallContext> {
  const forwardedFor = first(call.metadata, "x-forwarded-for");
  const peer = call.getPeer();
  const believed = forwardedFor !== undefined && (await isEdge(verifier, edgeAuthorization));
  return {
    authorization: authorizationOf(call),
    trace: continueTrace({
      requestId: first(call.metadata, "x-request-id"),
      traceparent: first(call.metadata, "traceparent"),
      tracestate: first(call.metadata, "tracestate"),
    }),
    sourceAddress: believed ? `${forwardedFor.slice(0, MAX_FORWARDED_FOR_LENGTH)} via ${peer}` : peer,
  };
}

/** An IPv6 address is at most 45 characters; a list of proxies a few of them. */
const MAX_FORWARDED_FOR_LENGTH = 256;

async function isEdge(verifier: TokenVerifier, authorization: string | undefined): Promise<boolean> {
  if (!authorization) return false;
  return verifier.verify(authorization, requiredScopeByMethod.RecordEdgeRefusal).then(
    () => true,
    () => false,
  );
}

/** The caller's own `authorization`, for calls that need nothing else from the metadata. */
export function authorizationOf(call: Pick<CallWithMetadata, "metadata">): string | undefined {
  return first(call.metadata, "authorization");
}

function first(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === "string" && value !== "" ? value : undefined;
}
