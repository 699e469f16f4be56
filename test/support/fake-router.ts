import type { ExecContainerRequest, StreamExecContainerResponse } from "../../src/gen/meshexec/v1/exec.js";
import type { RouterClient } from "../../gateway/router-client.js";

/**
 * The router as the edge sees it, answering from the spec: each RPC does what `answers` says, and
 * one it was not told about fails the spec. Every call is recorded, with the request it carried.
 */
export class FakeRouter implements RouterClient {
  readonly calls: Array<{ method: string; request: unknown }> = [];
  canRecordRefusals = false;

  constructor(private readonly answers: Partial<Record<keyof RouterClient, (request: unknown) => unknown>> = {}) {}

  private answer<T>(method: keyof RouterClient, request: unknown): Promise<T> {
    this.calls.push({ method, request });
    const answer = this.answers[method];
    if (!answer) return Promise.reject(new Error(`the spec did not expect ${method}`));
    return Promise.resolve().then(() => answer(request) as T);
  }

  execContainer = (request: ExecContainerRequest) => this.answer<never>("execContainer", request);
  async *streamExecContainer(request: ExecContainerRequest): AsyncGenerator<StreamExecContainerResponse> {
    this.calls.push({ method: "streamExecContainer", request });
    const answer = this.answers.streamExecContainer;
    if (!answer) throw new Error("the spec did not expect streamExecContainer");
    yield* answer(request) as AsyncGenerator<StreamExecContainerResponse>;
  }
  listAgents = () => this.answer<never>("listAgents", {});
  revokeAgent = (hostname: string) => this.answer<never>("revokeAgent", hostname);
  getJob = (jobId: string) => this.answer<never>("getJob", jobId);
  cancelJob = (jobId: string) => this.answer<never>("cancelJob", jobId);
  listJobs = (request: unknown) => this.answer<never>("listJobs", request);
  listAudit = (request: unknown) => this.answer<never>("listAudit", request);
  revokeToken = (jti: string) => this.answer<never>("revokeToken", jti);
  recordEdgeRefusal = (request: unknown) => this.answer<unknown>("recordEdgeRefusal", request);
  isServing = (service: string) => this.answer<boolean>("isServing", service);
}
