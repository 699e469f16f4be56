import {
  Metadata,
  credentials,
  makeGenericClientConstructor,
  type CallOptions,
  type Client,
  type ClientUnaryCall,
  type ServiceError,
} from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import { ExecServiceClient } from "../src/gen/meshexec/v1/exec.js";
import { fromServiceError } from "../src/errors/index.js";

export interface CallContext {
  /** The caller's Authorization header, forwarded as-is for the router to verify. */
  authorization?: string;
  deadlineMs: number;
  /** Aborted when the HTTP client goes away; the gRPC call is cancelled with it. */
  signal?: AbortSignal;
}

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (err: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

const HealthClient = makeGenericClientConstructor(healthService, "grpc.health.v1.Health");
type HealthCheck = UnaryMethod<{ service: string }, { status: string }>;

/** The edge's one connection to the router. Calls fail fast (no wait-for-ready) when the router is down. */
export class RouterClient {
  readonly exec: ExecServiceClient;
  private readonly health: Client & { check: HealthCheck };

  constructor(address: string) {
    // A fan-out reply holds up to 2 MiB of output per host, far past grpc's 4 MiB default.
    const options = { "grpc.keepalive_time_ms": 30_000, "grpc.keepalive_timeout_ms": 10_000, "grpc.max_receive_message_length": -1 };
    this.exec = new ExecServiceClient(address, credentials.createInsecure(), options);
    this.health = new HealthClient(address, credentials.createInsecure(), options) as unknown as Client & { check: HealthCheck };
  }

  /** Makes one unary call; a failure comes back as the MeshError the router sent. */
  call<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, context: CallContext): Promise<Res> {
    const metadata = new Metadata();
    if (context.authorization) metadata.set("authorization", context.authorization);
    return new Promise((resolve, reject) => {
      const call = method.call(this.exec, request, metadata, { deadline: Date.now() + context.deadlineMs }, (err, response) =>
        err ? reject(fromServiceError(err)) : resolve(response),
      );
      context.signal?.addEventListener("abort", () => call.cancel(), { once: true });
    });
  }

  /** True when the router answers its health check with SERVING within timeoutMs. */
  async isServing(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      this.health.check({ service: "" }, new Metadata(), { deadline: Date.now() + timeoutMs }, (err, response) =>
        resolve(!err && response.status === "SERVING"),
      );
    });
  }

  close(): void {
    this.exec.close();
    this.health.close();
  }
}
