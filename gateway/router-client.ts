import type { ListAuditRequest, ListAuditResponse, RecordEdgeRefusalRequest } from "../src/gen/meshexec/v1/audit.js";
import type {
  ExecContainerRequest,
  ExecContainerResponse,
  ListAgentsResponse,
  RevokeAgentResponse,
  StreamExecContainerResponse,
} from "../src/gen/meshexec/v1/exec.js";
import type { Job, ListJobsRequest, ListJobsResponse } from "../src/gen/meshexec/v1/jobs.js";
import type { RevokeTokenResponse } from "../src/gen/meshexec/v1/tokens.js";
import type { TraceContext } from "../src/trace/index.js";

/** What the edge passes on with every call: the caller's credentials and trace, and where they came from. */
export interface RouterCallContext {
  /** The caller's Authorization header, forwarded as-is for the router to verify. */
  authorization?: string;
  trace: TraceContext;
  /** The HTTP client's address, for the audit log. */
  clientAddress?: string;
  deadlineMs: number;
  /** Aborted when the HTTP client goes away; the call is cancelled with it. */
  signal?: AbortSignal;
}

/**
 * The router as the edge's app and routes see it: one method per RPC the edge transcodes to.
 * A call that fails rejects with the MeshError the router sent (or one describing the transport
 * failure). GrpcRouterClient (grpc-router-client.ts) is the real one; the in-process edge specs
 * (app.spec.ts) answer with a fake.
 */
export interface RouterClient {
  execContainer(request: ExecContainerRequest, context: RouterCallContext): Promise<ExecContainerResponse>;
  /** The streamed exec's events in order; a failure before the first one rejects the first next(). */
  streamExecContainer(request: ExecContainerRequest, context: RouterCallContext): AsyncGenerator<StreamExecContainerResponse>;
  listAgents(context: RouterCallContext): Promise<ListAgentsResponse>;
  revokeAgent(hostname: string, context: RouterCallContext): Promise<RevokeAgentResponse>;
  getJob(jobId: string, context: RouterCallContext): Promise<Job>;
  cancelJob(jobId: string, context: RouterCallContext): Promise<Job>;
  listJobs(request: ListJobsRequest, context: RouterCallContext): Promise<ListJobsResponse>;
  listAudit(request: ListAuditRequest, context: RouterCallContext): Promise<ListAuditResponse>;
  revokeToken(jti: string, context: RouterCallContext): Promise<RevokeTokenResponse>;
  /** Whether the router will take the edge's refusals: only with the edge's own token. */
  readonly canRecordRefusals: boolean;
  /** Sent with the edge's own token as its authorization; the caller's is never passed on here. */
  recordEdgeRefusal(request: RecordEdgeRefusalRequest, context: Omit<RouterCallContext, "authorization">): Promise<unknown>;
  /** True when the router's health check says SERVING for `service` ("" is the whole server) within timeoutMs. */
  isServing(service: string, timeoutMs: number): Promise<boolean>;
}
