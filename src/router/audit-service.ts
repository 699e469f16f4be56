import type { AuditServiceServer } from "../gen/meshexec/v1/audit.js";
import { requiredScopeByMethod, type TokenVerifier } from "../auth/index.js";
import { GrpcStatus } from "../errors/index.js";
import type { Logger } from "../log/index.js";
import type { AuditLog } from "../store/index.js";
import { callContextOf } from "./call-context.js";
import { pageLimitOf } from "./page-limit.js";
import { unaryHandler } from "./grpc-handlers.js";

export function createAuditService(deps: { audit: AuditLog; verifier: TokenVerifier; log: Logger }): AuditServiceServer {
  const { audit, verifier, log } = deps;
  return {
    listAudit: unaryHandler(log, async (call) => {
      await verifier.verify(callContextOf(call).authorization, requiredScopeByMethod.ListAudit);
      const page = audit.list({ limit: pageLimitOf(call.request.limit), cursor: call.request.cursor || undefined });
      return { entries: page.items, nextCursor: page.nextCursor ?? "" };
    }),

    recordEdgeRefusal: unaryHandler(log, async (call) => {
      const context = callContextOf(call);
      const { target, containerId, subject, httpStatus, error } = call.request;
      audit.append({
        time: new Date(),
        subject,
        sourceAddress: context.sourceAddress,
        target,
        containerId,
        // The edge refused before it could trust the body, so no command is recorded.
        command: [],
        grpcCode: GrpcStatus[grpcCodeOfHttp(httpStatus)],
        httpStatus,
        jobId: "",
        requestId: context.trace.requestId,
        error,
      });
      return {};
    }),
  };
}

/** The edge's own refusals are HTTP-only or auth failures; this names them in gRPC terms for the log. */
function grpcCodeOfHttp(httpStatus: number): GrpcStatus {
  if (httpStatus === 401) return GrpcStatus.UNAUTHENTICATED;
  if (httpStatus === 403) return GrpcStatus.PERMISSION_DENIED;
  if (httpStatus === 413) return GrpcStatus.RESOURCE_EXHAUSTED;
  return GrpcStatus.INVALID_ARGUMENT;
}
