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
import { GrpcStatus, fromServiceError } from "../src/errors/index.js";
import type { RouterAddress } from "../src/config/index.js";
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

/** One router's clients, all on one channel (grpc-js shares a channel between clients of one address and options). */
interface RouterEndpoint {
  readonly address: string;
  readonly exec: ExecServiceClient;
  readonly jobs: JobServiceClient;
  readonly audit: AuditServiceClient;
  readonly tokens: TokenServiceClient;
  readonly health: Client & { check: HealthCheck };
}

/**
 * The edge's connection to the routers: one method per RPC the edge transcodes to. Calls fail
 * fast (no wait-for-ready) when a router is down, and failures come back as the MeshError the
 * router sent. With several routers, calls are spread over them in turn; a call moves on to the
 * next router only when it provably never reached one: grpc-js fails a call that found no
 * connection with UNAVAILABLE "No connection established" before sending anything. Any other
 * failure may have reached a router, and an exec is not idempotent, so it is returned as it is.
 */
export class GrpcRouterClient implements RouterClient {
  private readonly endpoints: RouterEndpoint[];
  private turn = 0;
  /** `Bearer <the edge's own token>` (scope audit:record), when the edge has one. */
  private readonly edgeAuthorization?: string;

  /** `edgeToken` is the edge's own credential: see requiredScopeByMethod.RecordEdgeRefusal. */
  constructor(addresses: string | readonly RouterAddress[], dial: DialCredentials = plaintextDial, edgeToken?: string) {
    this.edgeAuthorization = edgeToken ? `Bearer ${edgeToken}` : undefined;
    const routers: readonly RouterAddress[] = typeof addresses === "string" ? [{ address: addresses }] : addresses;
    this.endpoints = routers.map(({ address, serverName }) => {
      // A fan-out reply holds up to 2 MiB of output per host, far past grpc's 4 MiB default.
      const named = serverName ? { "grpc.ssl_target_name_override": serverName, "grpc.default_authority": serverName } : {};
      const options = {
        // An explicit --router-tls-server-name (in dial.options) wins over the name the address came from.
        ...named,
        ...dial.options,
        "grpc.keepalive_time_ms": 30_000,
        "grpc.keepalive_timeout_ms": 10_000,
        "grpc.max_receive_message_length": -1,
      };
      return {
        address,
        exec: new ExecServiceClient(address, dial.credentials, options),
        jobs: new JobServiceClient(address, dial.credentials, options),
        audit: new AuditServiceClient(address, dial.credentials, options),
        tokens: new TokenServiceClient(address, dial.credentials, options),
        health: new HealthClient(address, dial.credentials, options) as unknown as Client & { check: HealthCheck },
      };
    });
  }

  execContainer(request: ExecContainerRequest, context: RouterCallContext): Promise<ExecContainerResponse> {
    return this.unary(
      (e) => e.exec,
      (e) => e.exec.execContainer,
      request,
      context,
    );
  }

  /** The streamed exec's events in order; a failure before the first one rejects the first next(). */
  async *streamExecContainer(request: ExecContainerRequest, context: RouterCallContext): AsyncGenerator<StreamExecContainerResponse> {
    const routers = this.inTurn();
    for (let attempt = 0; ; attempt++) {
      const call = routers[attempt].exec.streamExecContainer(request, this.metadataOf(context), { deadline: Date.now() + context.deadlineMs });
      const cancel = () => call.cancel();
      context.signal?.addEventListener("abort", cancel, { once: true });
      let received = false;
      try {
        for await (const event of call) {
          received = true;
          yield event as StreamExecContainerResponse;
        }
        return;
      } catch (err) {
        if (!received && attempt + 1 < routers.length && neverReachedRouter(err as ServiceError)) continue;
        throw fromServiceError(err as ServiceError);
      } finally {
        context.signal?.removeEventListener("abort", cancel);
        call.cancel();
      }
    }
  }

  listAgents(context: RouterCallContext): Promise<ListAgentsResponse> {
    return this.unary(
      (e) => e.exec,
      (e) => e.exec.listAgents,
      {},
      context,
    );
  }

  revokeAgent(hostname: string, context: RouterCallContext): Promise<RevokeAgentResponse> {
    return this.unary(
      (e) => e.exec,
      (e) => e.exec.revokeAgent,
      { hostname },
      context,
    );
  }

  getJob(jobId: string, context: RouterCallContext): Promise<Job> {
    return this.unary(
      (e) => e.jobs,
      (e) => e.jobs.getJob,
      { jobId },
      context,
    );
  }

  cancelJob(jobId: string, context: RouterCallContext): Promise<Job> {
    return this.unary(
      (e) => e.jobs,
      (e) => e.jobs.cancelJob,
      { jobId },
      context,
    );
  }

  listJobs(request: ListJobsRequest, context: RouterCallContext): Promise<ListJobsResponse> {
    return this.unary(
      (e) => e.jobs,
      (e) => e.jobs.listJobs,
      request,
      context,
    );
  }

  listAudit(request: ListAuditRequest, context: RouterCallContext): Promise<ListAuditResponse> {
    return this.unary(
      (e) => e.audit,
      (e) => e.audit.listAudit,
      request,
      context,
    );
  }

  /** Whether the router will take the edge's refusals: only with the edge's own token. */
  get canRecordRefusals(): boolean {
    return this.edgeAuthorization !== undefined;
  }

  /** Sent with the edge's own token as its authorization; the caller's is never passed on here. */
  recordEdgeRefusal(request: RecordEdgeRefusalRequest, context: Omit<RouterCallContext, "authorization">): Promise<unknown> {
    return this.unary(
      (e) => e.audit,
      (e) => e.audit.recordEdgeRefusal,
      request,
      { ...context, authorization: this.edgeAuthorization },
    );
  }

  revokeToken(jti: string, context: RouterCallContext): Promise<RevokeTokenResponse> {
    return this.unary(
      (e) => e.tokens,
      (e) => e.tokens.revokeToken,
      { jti },
      context,
    );
  }

  /** True when some router's health check says SERVING for `service` ("" is the whole server) within timeoutMs. */
  async isServing(service: string, timeoutMs: number): Promise<boolean> {
    const answers = this.endpoints.map(
      (endpoint) =>
        new Promise<boolean>((resolve) => {
          endpoint.health.check({ service }, new Metadata(), { deadline: Date.now() + timeoutMs }, (err, response) =>
            resolve(!err && response.status === "SERVING"),
          );
        }),
    );
    return (await Promise.all(answers)).some(Boolean);
  }

  close(): void {
    for (const endpoint of this.endpoints) [endpoint.exec, endpoint.jobs, endpoint.audit, endpoint.tokens, endpoint.health].forEach((client) => client.close());
  }

  /** Every router once, starting with the one whose turn it is: calls are spread over them all. */
  private inTurn(): RouterEndpoint[] {
    const start = this.turn++ % this.endpoints.length;
    return [...this.endpoints.slice(start), ...this.endpoints.slice(0, start)];
  }

  private async unary<Req, Res>(
    clientOf: (endpoint: RouterEndpoint) => Client,
    methodOf: (endpoint: RouterEndpoint) => UnaryMethod<Req, Res>,
    request: Req,
    context: RouterCallContext,
  ): Promise<Res> {
    const routers = this.inTurn();
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.unaryOn(clientOf(routers[attempt]), methodOf(routers[attempt]), request, context);
      } catch (err) {
        if (attempt + 1 < routers.length && neverReachedRouter(err as ServiceError)) continue;
        throw fromServiceError(err as ServiceError);
      }
    }
  }

  private unaryOn<Req, Res>(client: Client, method: UnaryMethod<Req, Res>, request: Req, context: RouterCallContext): Promise<Res> {
    return new Promise((resolve, reject) => {
      const call = method.call(client, request, this.metadataOf(context), { deadline: Date.now() + context.deadlineMs }, (err, response) =>
        err ? reject(err) : resolve(response),
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

/**
 * Whether a failed call provably never left the edge: grpc-js's picker fails a call with
 * UNAVAILABLE "No connection established" when the channel has no connection to send it on
 * (wait-for-ready is off), so no byte of it reached a router. Only then may it go to another.
 */
function neverReachedRouter(err: ServiceError): boolean {
  return err.code === GrpcStatus.UNAVAILABLE && /^(\w+: )?No connection established/.test(err.details ?? "");
}
