import { Metadata, credentials, type ClientDuplexStream, type ServiceError } from "@grpc/grpc-js";
import { randomUUID } from "node:crypto";
import { AgentServiceClient, type AgentExecRequest, type AgentMessage, type RouterMessage } from "../../src/gen/meshexec/v1/agent.js";
import { waitFor } from "./wait-for.js";

/**
 * An agent written by an attacker: it speaks AgentService.Connect itself with a credential the
 * stack gave it, and answers each exec however the spec says, ignoring every cap the real agent keeps.
 */
export class RogueAgent {
  readonly execs: AgentExecRequest[] = [];
  /** How the router ended the stream, once it has. */
  ended?: { code: number; details: string };
  private readonly client: AgentServiceClient;
  private readonly stream: ClientDuplexStream<AgentMessage, RouterMessage>;
  private welcomed = false;

  constructor(
    routerAddress: string,
    authorization: string,
    readonly hostname: string,
  ) {
    // The real agent's client would refuse to send more than the router takes; this one sends anything.
    this.client = new AgentServiceClient(routerAddress, credentials.createInsecure(), { "grpc.max_send_message_length": -1 });
    const metadata = new Metadata();
    metadata.set("authorization", authorization);
    this.stream = this.client.connect(metadata);
    this.stream.on("data", (message: RouterMessage) => {
      if (message.kind?.$case === "welcome") this.welcomed = true;
      if (message.kind?.$case === "execRequest") this.execs.push(message.kind.value);
    });
    this.stream.on("error", (err: ServiceError) => (this.ended = { code: err.code, details: err.details }));
    this.stream.on("end", () => (this.ended ??= { code: 0, details: "" }));
    this.stream.write({ kind: { $case: "hello", value: { hostname, labels: {}, version: "rogue", instanceId: randomUUID() } } });
  }

  whenWelcomed(): Promise<true> {
    return waitFor(`${this.hostname} to be welcomed`, () => this.welcomed);
  }

  /** Waits for the next exec sent to it and answers it with this stdout, whatever its size. */
  async answerNextExec(stdout: string): Promise<void> {
    const seen = this.execs.length;
    const exec = await waitFor(`an exec for ${this.hostname}`, () => this.execs[seen]);
    this.stream.write({
      kind: {
        $case: "execReply",
        value: {
          requestId: exec.requestId,
          outcome: {
            $case: "completed",
            value: { stdout, stderr: "", exitCode: 0, timedOut: false, stdoutTruncated: false, stderrTruncated: false, durationMs: 1 },
          },
        },
      },
    });
  }

  close(): void {
    this.stream.cancel();
    this.client.close();
  }
}
