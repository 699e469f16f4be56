import { Metadata, credentials, type ChannelCredentials, type ClientDuplexStream, type StatusObject } from "@grpc/grpc-js";
import { AgentServiceClient, type AgentHello, type AgentMessage, type RouterMessage } from "../../src/gen/meshexec/v1/agent.js";
import { waitFor } from "./wait-for.js";

/**
 * AgentService.Connect driven by hand from the spec, for what no real agent sends: a hello with
 * someone else's instance id, oversized labels, or no hello at all.
 */
export class RawAgentStream {
  readonly received: RouterMessage[] = [];
  status?: StatusObject;
  private readonly client: AgentServiceClient;
  private readonly stream: ClientDuplexStream<AgentMessage, RouterMessage>;

  constructor(address: string, token?: string, channelCredentials: ChannelCredentials = credentials.createInsecure()) {
    // A connection of its own (not the shared subchannel pool), so each stream is a peer of its own.
    this.client = new AgentServiceClient(address, channelCredentials, { "grpc.max_send_message_length": -1, "grpc.use_local_subchannel_pool": 1 });
    const metadata = new Metadata();
    if (token !== undefined) metadata.set("authorization", `Bearer ${token}`);
    this.stream = this.client.connect(metadata);
    this.stream.on("data", (message: RouterMessage) => this.received.push(message));
    this.stream.on("error", () => {});
    this.stream.on("status", (status: StatusObject) => (this.status = status));
  }

  hello(hello: Partial<AgentHello> & { hostname: string }): void {
    this.stream.write({ kind: { $case: "hello", value: { labels: {}, version: "raw", instanceId: "raw", ...hello } } });
  }

  /** Resolves once the router welcomed this stream; fails with the status it ended with instead. */
  welcomed(timeoutMs = 10_000): Promise<true> {
    return waitFor(
      "the router's welcome",
      () => {
        if (this.status) throw new Error(`the stream ended: ${this.status.details}`);
        return this.received.some((m) => m.kind?.$case === "welcome");
      },
      timeoutMs,
    );
  }

  /** Resolves with the status the router ended the stream with. */
  ended(timeoutMs = 10_000): Promise<StatusObject> {
    return waitFor("the router to end the stream", () => this.status, timeoutMs);
  }

  close(): void {
    this.stream.cancel();
    this.client.close();
  }
}
