import type { ServerUnaryCall } from "@grpc/grpc-js";
import type { ExecContainerRequest, ExecContainerResponse, ExecServiceServer, HostResult } from "../gen/meshexec/v1/exec.js";
import { execGrantsOf, requiredScopeByMethod, type TokenVerifier } from "../auth/index.js";
import { MeshError, GrpcStatus } from "../errors/index.js";
import type { Logger } from "../log/index.js";
import type { AgentRevocations, AuditLog } from "../store/index.js";
import { traceLogFields } from "../trace/index.js";
import { authorizationOf, callContextOf } from "./call-context.js";
import { auditExecAttempt } from "./exec-audit.js";
import type { ExecJobs } from "./exec-jobs.js";
import type { AgentRegistry } from "./registry.js";
import { agentInfoOf, type FleetView } from "./fleet-view.js";
import { revokeAgentHandler } from "./revoke-agent.js";
import type { ExecAdmission } from "./exec-admission.js";
import type { ExecSlot } from "./subject-limits.js";
import { describeTarget } from "./target.js";
import { serverStreamHandler, unaryHandler } from "./grpc-handlers.js";
import { validateExecRequest } from "./validate-exec.js";
import { LiveOutputQueue } from "./live-output-queue.js";
import type { LiveOutputSink } from "./live-output.js";

export interface ExecServiceDeps {
  /** This router's own agents: RevokeAgent ends a session held here. */
  registry: AgentRegistry;
  /** The whole fleet, which ListAgents lists. */
  fleet: FleetView;
  /** In a mesh: tells the other routers of an agent revocation; true when one of them holds the agent. */
  announceRevocation?(hostname: string, message: string, revokedAt: Date): boolean;
  jobs: ExecJobs;
  audit: AuditLog;
  agentRevocations: AgentRevocations;
  verifier: TokenVerifier;
  /** Per-subject rate and concurrency limits on execs. */
  limits: ExecAdmission;
  log: Logger;
  /** Set while the router drains: new execs are refused with UNAVAILABLE. */
  isDraining: () => boolean;
}

/** A unary or a server-streaming call: both carry the request, metadata and cancellation. */
type ExecCall = ServerUnaryCall<ExecContainerRequest, unknown>;

interface ExecListener {
  onAccepted(jobId: string, hosts: string[]): void;
  onResult?(result: HostResult): void;
  onOutput?: LiveOutputSink;
}

export function createExecService(deps: ExecServiceDeps): ExecServiceServer {
  const { fleet, verifier, log } = deps;

  /**
   * One exec, however its results are delivered: auth first (nothing about the request is
   * looked at for an unauthenticated caller), then validation, then the subject's limits (a bad
   * request is told what is wrong with it, and spends none of them), then the job. Every
   * attempt, refused or not, leaves one audit entry.
   */
  async function runExec(call: ExecCall, listener: ExecListener): Promise<ExecContainerResponse> {
    const context = await callContextOf(call, verifier);
    const started = performance.now();
    const cancellation = cancellationOf(call);
    let subject = "";
    let jobId: string | undefined;
    let validatedCommand: string[] | undefined;
    let slot: ExecSlot | undefined;
    try {
      const principal = await verifier.verify(context.authorization, requiredScopeByMethod.ExecContainer);
      subject = principal.subject;
      const grants = execGrantsOf(principal.claims);
      if (deps.isDraining()) throw new MeshError(GrpcStatus.UNAVAILABLE, "router draining", "the router is shutting down and takes no new execs");
      const async = call.request.async ?? false;
      const validated = validateExecRequest(call.request);
      validatedCommand = validated.command;
      slot = await deps.limits.admit(subject);
      // A waiting caller's deadline bounds the exec; an async job outlives its call.
      const plan = async ? validated : { ...validated, timeoutMs: capByDeadline(validated.timeoutMs, call.getDeadline()) };
      const response = await deps.jobs.run({
        subject,
        plan,
        grants,
        async,
        idempotencyKey: call.request.idempotencyKey || undefined,
        trace: context.trace,
        signal: cancellation.signal,
        onAccepted: (id, hosts) => {
          jobId = id;
          listener.onAccepted(id, hosts);
        },
        onResult: listener.onResult,
        onOutput: listener.onOutput,
        onSettled: slot.release,
      });
      await auditExecAttempt(deps, context, subject, call.request, { jobId: response.jobId }, validatedCommand);
      log.info(
        {
          ...traceLogFields(context.trace),
          jobId: response.jobId,
          subject,
          target: describeTarget(plan.target),
          container: plan.containerId,
          hosts: response.results.length,
          async,
          durationMs: Math.round(performance.now() - started),
        },
        "exec",
      );
      return response;
    } catch (err) {
      // Nothing of a refused or failed exec runs on; a job that did start has released it already.
      slot?.release();
      await auditExecAttempt(deps, context, subject, call.request, { refused: err, jobId }, validatedCommand);
      throw err;
    } finally {
      cancellation.release();
    }
  }

  return {
    execContainer: unaryHandler(log, (call) => runExec(call, { onAccepted: () => {} })),

    streamExecContainer: serverStreamHandler(log, async (call) => {
      const sent = new Set<string>();
      const send = (result: HostResult) => {
        sent.add(result.hostname);
        call.write({ event: { $case: "result", value: result } });
      };
      let hosts: string[] = [];
      const output = call.request.omitOutput ? undefined : new LiveOutputQueue(call);
      const response = await runExec(call, {
        onAccepted: (jobId, accepted) => {
          hosts = accepted;
          call.write({ event: { $case: "accepted", value: { jobId, hosts } } });
        },
        onResult: send,
        onOutput: output && ((hostname, stream, data) => output.write(hostname, stream, data)),
      });
      // A replayed idempotent request has its results all at once, from the first run.
      response.results.filter((r) => !sent.has(r.hostname)).forEach(send);
      const count = (status: string) => response.results.filter((r) => r.status === status).length;
      call.write({
        event: {
          $case: "summary",
          value: {
            jobId: response.jobId,
            targeted: hosts.length || response.results.length || 1,
            ok: count("ok"),
            failed: count("failed"),
            timeout: count("timeout"),
            skipped: count("skipped"),
            cancelled: count("cancelled"),
          },
        },
      });
    }),

    listAgents: unaryHandler(log, async (call) => {
      await verifier.verify(authorizationOf(call), requiredScopeByMethod.ListAgents);
      return { agents: fleet.list().map(agentInfoOf) };
    }),

    revokeAgent: unaryHandler(log, revokeAgentHandler(deps)),
  };
}

/**
 * Aborts when the caller cancels or goes away, so host work still in flight is cancelled too.
 * Released once the exec has its answer: grpc-js emits "cancelled" when any call's stream closes,
 * answered or not, and an abort (with its DOMException) per call cost 3% of the router's CPU.
 */
function cancellationOf(call: ExecCall): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const abort = () => controller.abort();
  call.once("cancelled", abort);
  return { signal: controller.signal, release: () => call.off("cancelled", abort) };
}

/** The agent must kill and report before the caller's deadline, so the exec's limit ends a little earlier. */
function capByDeadline(timeoutMs: number, deadline: Date | number): number {
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
  if (!Number.isFinite(deadlineMs)) return timeoutMs;
  const DEADLINE_MARGIN_MS = 500;
  return Math.max(100, Math.min(timeoutMs, deadlineMs - Date.now() - DEADLINE_MARGIN_MS));
}
