import { Metadata, credentials, status, type ChannelCredentials, type ServiceError } from "@grpc/grpc-js";
import {
  ExecServiceClient,
  type ExecContainerRequest,
  type ExecContainerResponse,
  type ListAgentsResponse,
  type RevokeAgentResponse,
} from "../../src/gen/meshexec/v1/exec.js";

/** What one ExecService call came back with: a response, or a status with the error's two parts from the trailers. */
export interface GrpcReply<T> {
  code: status;
  /** The status message: "<error>: <details>". */
  message: string;
  error?: string;
  details?: string;
  /** The retry-after trailer of a refusal that passes (seconds), as the edge turns into Retry-After. */
  retryAfter?: string;
  response?: T;
}

export type Credentials = string | { authorization: string };

/** A gRPC caller of the router's ExecService, as an internal service would be: no edge in between. */
export class GrpcCaller {
  private readonly client: ExecServiceClient;

  constructor(address: string, channelCredentials: ChannelCredentials = credentials.createInsecure()) {
    this.client = new ExecServiceClient(address, channelCredentials, { "grpc.max_receive_message_length": -1 });
  }

  /** `token` is sent as `authorization: Bearer <token>`; `{ authorization }` sends that header value as is. */
  exec(request: Partial<ExecContainerRequest>, token?: Credentials): Promise<GrpcReply<ExecContainerResponse>> {
    const full: ExecContainerRequest = { target: "", containerId: "", command: [], env: [], workingDir: "", ...request };
    return this.unary((metadata, callback) => this.client.execContainer(full, metadata, callback), token);
  }

  listAgents(token?: Credentials): Promise<GrpcReply<ListAgentsResponse>> {
    return this.unary((metadata, callback) => this.client.listAgents({}, metadata, callback), token);
  }

  revokeAgent(hostname: string, token?: Credentials): Promise<GrpcReply<RevokeAgentResponse>> {
    return this.unary((metadata, callback) => this.client.revokeAgent({ hostname }, metadata, callback), token);
  }

  close(): void {
    this.client.close();
  }

  private unary<T>(call: (metadata: Metadata, callback: (err: ServiceError | null, res: T) => void) => unknown, token?: Credentials): Promise<GrpcReply<T>> {
    const metadata = new Metadata();
    const authorization = typeof token === "string" ? `Bearer ${token}` : token?.authorization;
    if (authorization !== undefined) metadata.set("authorization", authorization);
    return new Promise((resolve) =>
      call(metadata, (err, response) => {
        if (!err) return resolve({ code: status.OK, message: "", response });
        const part = (key: string) => {
          const value = err.metadata?.get(key)[0];
          return typeof value === "string" ? decodeURIComponent(value) : undefined;
        };
        resolve({
          code: err.code,
          message: err.details,
          error: part("meshexec-error"),
          details: part("meshexec-error-details"),
          retryAfter: part("retry-after"),
        });
      }),
    );
  }
}
