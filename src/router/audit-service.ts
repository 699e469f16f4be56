import type { AuditServiceServer } from "../gen/meshexec/v1/audit.js";
import { requiredScopeByMethod, type TokenVerifier } from "../auth/index.js";
import { execLimits } from "../contract/index.js";
import { GrpcStatus } from "../errors/index.js";
import type { Logger } from "../log/index.js";
import type { AuditLog } from "../store/index.js";
import { authorizationOf, callContextOf } from "./call-context.js";
import { cutForAudit } from "./exec-audit.js";
import { pageLimitOf } from "./page-limit.js";
import { unaryHandler } from "./grpc-handlers.js";

/** An edge's refusal is one of its own short sentences; anything longer is cut. */
const EDGE_FIELD_MAX_CHARS = 256;

export function createAuditService(deps: { audit: AuditLog; verifier: TokenVerifier; log: Logger }): AuditServiceServer {
  const { audit, verifier, log } = deps;
  return {
    listAudit: unaryHandler(log, async (call) => {
      await verifier.verify(authorizationOf(call), requiredScopeByMethod.ListAudit);
      const page = await audit.list({ limit: pageLimitOf(call.request.limit), cursor: call.request.cursor || undefined });
      return { entries: page.items, nextCursor: page.nextCursor ?? "" };
    }),

    /** Only the edge writes here: its own token (`audit:record`) is this call's authorization. */
    recordEdgeRefusal: unaryHandler(log, async (call) => {
      const edgeAuthorization = authorizationOf(call);
      await verifier.verify(edgeAuthorization, requiredScopeByMethod.RecordEdgeRefusal);
      const context = await callContextOf(call, verifier, edgeAuthorization);
      const { target, containerId, subject, httpStatus, error } = call.request;
      await audit.append({
        time: new Date(),
        subject: cutForAudit(subject, EDGE_FIELD_MAX_CHARS),
        sourceAddress: context.sourceAddress,
        target: cutForAudit(target, execLimits.targetMaxLength),
        containerId: cutForAudit(containerId, execLimits.containerIdMaxLength),
        // The edge refused before it could trust the body, so no command is recorded.
        command: [],
        grpcCode: GrpcStatus[grpcCodeOfHttp(httpStatus)],
        httpStatus,
        jobId: "",
        requestId: context.trace.requestId,
        error: cutForAudit(error, EDGE_FIELD_MAX_CHARS),
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
  if (httpStatus === 499) return GrpcStatus.CANCELLED;
  return GrpcStatus.INVALID_ARGUMENT;
}
