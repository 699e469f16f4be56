import type { ServerUnaryCall } from "@grpc/grpc-js";
import type { RevokeAgentRequest, RevokeAgentResponse } from "../gen/meshexec/v1/exec.js";
import { requiredScopeByMethod, type TokenVerifier } from "../auth/index.js";
import { GrpcStatus, invalidArgument, quoteForMessage } from "../errors/index.js";
import type { Logger } from "../log/index.js";
import type { AgentRevocations, AuditLog } from "../store/index.js";
import { callContextOf } from "./call-context.js";
import { recordAudit } from "./exec-audit.js";
import type { AgentRegistry } from "./registry.js";
import { isHostname } from "./target.js";

export interface RevokeAgentDeps {
  registry: AgentRegistry;
  agentRevocations: AgentRevocations;
  audit: AuditLog;
  verifier: TokenVerifier;
  log: Logger;
  /** In a mesh: tells the other routers, so the one holding the agent ends its stream too; true when one holds it. */
  announceRevocation?(hostname: string, message: string, revokedAt: Date): boolean;
}

/**
 * ExecService.RevokeAgent: records the revocation first (so a reconnect racing it is refused),
 * then ends the live session. Revoking a hostname that is not connected still records it, so a
 * leaked credential can be refused before it is used. Audited once authenticated.
 */
export function revokeAgentHandler(deps: RevokeAgentDeps): (call: ServerUnaryCall<RevokeAgentRequest, RevokeAgentResponse>) => Promise<RevokeAgentResponse> {
  return async (call) => {
    const context = await callContextOf(call, deps.verifier);
    const { subject } = await deps.verifier.verify(context.authorization, requiredScopeByMethod.RevokeAgent);
    const { hostname } = call.request;
    if (!isHostname(hostname)) throw invalidArgument("invalid hostname", `hostname ${quoteForMessage(hostname)} is not an RFC 1123 hostname`);
    // Whole seconds, as a token's iat and a certificate's notBefore are: everything issued within
    // this second is refused too, so a credential minted after the answer is never older than it.
    const revokedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    await deps.agentRevocations.revoke(hostname, revokedAt);
    const message = `agent revoked by ${subject || "(no subject)"} at ${revokedAt.toISOString()}`;
    const endedHere = deps.registry.revoke(hostname, message);
    const heldElsewhere = deps.announceRevocation?.(hostname, message, revokedAt) ?? false;
    const sessionEnded = endedHere || heldElsewhere;
    await recordAudit(deps, {
      time: new Date(),
      subject,
      sourceAddress: context.sourceAddress,
      target: hostname,
      containerId: "",
      // The audit log has no action column: the method name says what was done.
      command: ["RevokeAgent"],
      grpcCode: GrpcStatus[GrpcStatus.OK],
      httpStatus: 200,
      jobId: "",
      requestId: context.trace.requestId,
      error: "",
    });
    deps.log.warn({ subject, hostname, sessionEnded, revokedAt: revokedAt.toISOString(), requestId: context.trace.requestId }, "agent revoked");
    return { hostname, revokedAt, sessionEnded };
  };
}
