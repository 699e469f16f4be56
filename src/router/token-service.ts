import type { TokenServiceServer } from "../gen/meshexec/v1/tokens.js";
import { TOKEN_ID_RULE, isTokenId, requiredScopeByMethod, type TokenVerifier } from "../auth/index.js";
import { GrpcStatus, invalidArgument } from "../errors/index.js";
import type { Logger } from "../log/index.js";
import type { AuditLog, TokenRevocations } from "../store/index.js";
import { traceLogFields } from "../trace/index.js";
import { callContextOf } from "./call-context.js";
import { recordAudit } from "./exec-audit.js";
import { unaryHandler } from "./grpc-handlers.js";

export function createTokenService(deps: { revocations: TokenRevocations; audit: AuditLog; verifier: TokenVerifier; log: Logger }): TokenServiceServer {
  const { revocations, verifier, log } = deps;
  return {
    revokeToken: unaryHandler(log, async (call) => {
      const context = await callContextOf(call, verifier);
      const { subject } = await verifier.verify(context.authorization, requiredScopeByMethod.RevokeToken);
      const { jti } = call.request;
      if (!isTokenId(jti)) throw invalidArgument("invalid jti", `jti must be ${TOKEN_ID_RULE}, got ${jti.length} characters`);
      const revokedAt = await revocations.revoke(jti, new Date());
      // In the audit log beside the execs, as what the subject asked the mesh to do.
      await recordAudit(deps, {
        time: new Date(),
        subject,
        sourceAddress: context.sourceAddress,
        target: "",
        containerId: "",
        command: ["token", "revoke", jti],
        grpcCode: GrpcStatus[GrpcStatus.OK],
        httpStatus: 200,
        jobId: "",
        requestId: context.trace.requestId,
        error: "",
      });
      log.info({ ...traceLogFields(context.trace), subject, jti, revokedAt }, "token revoked");
      return { jti, revokedAt };
    }),
  };
}
