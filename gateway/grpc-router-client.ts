import { Metadata, makeGenericClientConstructor, type CallOptions, type Client, type ClientUnaryCall, type ServiceError } from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import { AuditServiceClient, type ListAuditRequest, type ListAuditResponse, type RecordEdgeRefusalRequest } from "../src/gen/meshexec/v1/audit.js";
import {
  ExecServiceClient,
  type ExecContainerRequest,
  type ExecContainerResponse,
  type ListAgentsResponse,
  type RevokeAgentResponse,
  type StreamExecContainerResponse,
} from "../src/gen/meshexec/v1/exec.js";
import { JobServiceClient, type Job, type ListJobsRequest, type ListJobsResponse } from "../src/gen/meshexec/v1/jobs.js";
import { EDGE_AUTHORIZATION_METADATA } from "../src/contract/index.js";
import { TokenServiceClient, type RevokeTokenResponse } from "../src/gen/meshexec/v1/tokens.js";
import { fromServiceError } from "../src/errors/index.js";
import { plaintextDial, type DialCredentials } from "../src/tls/index.js";
import type { RouterCallContext, RouterClient } from "./router-client.js";

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (err: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

const HealthClient = makeGenericClientConstructor(healthService, "grpc.health.v1.Health");
type HealthCheck = UnaryMethod<{ service: string }, { status: string }>;

/**
 * The edge's gRPC connection to the router. Calls fail fast (no wait-for-ready) when the router
 * is down, and failures come back as the MeshError the router sent.
 */
export class GrpcRouterClient implements RouterClient {
  private readonly exec: ExecServiceClient;
  private readonly jobs: JobServiceClient;
  private readonly audit: AuditServiceClient;
  private readonly tokens: TokenServiceClient;
  private readonly health: Client & { check: HealthCheck };
  /** `Bearer <the edge's own token>` (scope audit:record), when the edge has one. */
  private readonly edgeAuthorization?: string;

  /** `edgeToken` is the edge's own credential: see requiredScopeByMethod.RecordEdgeRefusal. */
  constructor(address: string, dial: DialCredentials = plaintextDial, edgeToken?: string) {
    this.edgeAuthorization = edgeToken ? `Bearer ${edgeToken}` : undefined;
    // A fan-out reply holds up to 2 MiB of output per host, far past grpc's 4 MiB default.
    const options = { ...dial.options, "grpc.keepalive_time_ms": 30_000, "grpc.keepalive_timeout_ms": 10_000, "grpc.max_receive_message_length": -1 };
    this.exec = new ExecServiceClient(address, dial.credentials, options);
    this.jobs = new JobServiceClient(address, dial.credentials, options);
    this.audit = new AuditServiceClient(address, dial.credentials, options);
    this.tokens = new TokenServiceClient(address, dial.credentials, options);
    this.health = new HealthClient(address, dial.credentials, options) as unknown as Client & { check: HealthCheck };
  }

  execContainer(request: ExecContainerRequest, context: RouterCallContext): Promise<ExecContainerResponse> {
    return this.unary(this.exec, this.exec.execContainer, request, context);
  }

  /** The streamed exec's events in order; a failure before the first one rejects the first next(). */
  async *streamExecContainer(request: ExecContainerRequest, context: RouterCallContext): AsyncGenerator<StreamExecContainerResponse> {
    const call = this.exec.streamExecContainer(request, this.metadataOf(context), { deadline: Date.now() + context.deadlineMs });
    const cancel = () => call.cancel();
    context.signal?.addEventListener("abort", cancel, { once: true });
    try {
      for await (const event of call) yield event as StreamExecContainerResponse;
    } catch (err) {
      throw fromServiceError(err as ServiceError);
    } finally {
      context.signal?.removeEventListener("abort", cancel);
      call.cancel();
    }
  }

  listAgents(context: RouterCallContext): Promise<ListAgentsResponse> {
    return this.unary(this.exec, this.exec.listAgents, {}, context);
  }

  revokeAgent(hostname: string, context: RouterCallContext): Promise<RevokeAgentResponse> {
    return this.unary(this.exec, this.exec.revokeAgent, { hostname }, context);
  }

  getJob(jobId: string, context: RouterCallContext): Promise<Job> {
    return this.unary(this.jobs, this.jobs.getJob, { jobId }, context);
  }

  listJobs(request: ListJobsRequest, context: RouterCallContext): Promise<ListJobsResponse> {
    return this.unary(this.jobs, this.jobs.listJobs, request, context);
  }

  listAudit(request: ListAuditRequest, context: RouterCallContext): Promise<ListAuditResponse> {
    return this.unary(this.audit, this.audit.listAudit, request, context);
  }

  /** Whether the router will take the edge's refusals: only with the edge's own token. */
  get canRecordRefusals(): boolean {
    return this.edgeAuthorization !== undefined;
  }

  /** Sent with the edge's own token as its authorization; the caller's is never passed on here. */
  recordEdgeRefusal(request: RecordEdgeRefusalRequest, context: Omit<RouterCallContext, "authorization">): Promise<unknown> {
    return this.unary(this.audit, this.audit.recordEdgeRefusal, request, { ...context, authorization: this.edgeAuthorization });
  }

  revokeToken(jti: string, context: RouterCallContext): Promise<RevokeTokenResponse> {
    return this.unary(this.tokens, this.tokens.revokeToken, { jti }, context);
  }

  /** True when the router's health check says SERVING for `service` ("" is the whole server) within timeoutMs. */
  isServing(service: string, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      this.health.check({ service }, new Metadata(), { deadline: Date.now() + timeoutMs }, (err, response) => resolve(!err && response.status === "SERVING"));
    });
  }

  close(): void {
    [this.exec, this.jobs, this.audit, this.tokens, this.health].forEach((client) => client.close());
  }

  private unary<Req, Res>(client: Client, method: UnaryMethod<Req, Res>, request: Req, context: RouterCallContext): Promise<Res> {
    return new Promise((resolve, reject) => {
      const call = method.call(client, request, this.metadataOf(context), { deadline: Date.now() + context.deadlineMs }, (err, response) =>
        err ? reject(fromServiceError(err)) : resolve(response),
      );
      context.signal?.addEventListener("abort", () => call.cancel(), { once: true });
    });
  }

  /** The router believes x-forwarded-for only with the edge's own token beside it. */
  private metadataOf(context: RouterCallContext): Metadata {
    const metadata = new Metadata();
    if (context.authorization) metadata.set("authorization", context.authorization);
    if (context.clientAddress) metadata.set("x-forwarded-for", context.clientAddress);
    if (this.edgeAuthorization && context.authorization !== this.edgeAuthorization) metadata.set(EDGE_AUTHORIZATION_METADATA, this.edgeAuthorization);
    metadata.set("x-request-id", context.trace.requestId);
    metadata.set("traceparent", context.trace.traceparent);
    if (context.trace.tracestate) metadata.set("tracestate", context.trace.tracestate);
    return metadata;
  }
}
