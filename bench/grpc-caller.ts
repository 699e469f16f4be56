import { Metadata, credentials } from "@grpc/grpc-js";
import { ExecServiceClient, type ExecContainerRequest, type ExecContainerResponse } from "../src/gen/meshexec/v1/exec.js";

/**
 * A gRPC caller of ExecContainer, as a user's program would be. With channels > 1 each channel
 * gets its own connection (grpc-js would otherwise share one between identical channels), and
 * calls take them in turn.
 */
export class GrpcCaller {
  private readonly clients: ExecServiceClient[];
  private readonly metadata = new Metadata();
  private next = 0;

  constructor(address: string, token: string, channels = 1) {
    this.metadata.set("authorization", `Bearer ${token}`);
    this.clients = Array.from(
      { length: channels },
      () => new ExecServiceClient(address, credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1, "grpc.max_receive_message_length": -1 }),
    );
  }

  exec(request: Pick<ExecContainerRequest, "target" | "containerId" | "command">): Promise<ExecContainerResponse> {
    const client = this.clients[this.next++ % this.clients.length];
    const full: ExecContainerRequest = { env: [], workingDir: "", timeoutSeconds: 30, ...request };
    return new Promise((resolve, reject) =>
      client.execContainer(full, this.metadata, { deadline: Date.now() + 60_000 }, (err, response) => (err ? reject(err) : resolve(response))),
    );
  }

  close(): void {
    this.clients.forEach((client) => client.close());
  }
}
