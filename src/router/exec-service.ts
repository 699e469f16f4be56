import { randomUUID } from "node:crypto";
import type { Metadata, ServerUnaryCall } from "@grpc/grpc-js";
import type { ExecServiceServer, AgentInfo } from "../gen/meshexec/v1/exec.js";
import { AGENT_ANSWER_GRACE_MS } from "../contract/index.js";
import { requiredScopeByMethod, type TokenVerifier } from "../auth/index.js";
import { MeshError, GrpcStatus } from "../errors/index.js";
import type { Logger } from "../log/index.js";
import type { AgentSession } from "./agent-session.js";
import { fanOut, runOnOne } from "./dispatch.js";
import type { AgentRegistry } from "./registry.js";
import { describeTarget } from "./target.js";
import { unaryHandler } from "./unary-handler.js";
import { validateExecRequest } from "./validate-exec.js";

export interface ExecServiceDeps {
  registry: AgentRegistry;
  verifier: TokenVerifier;
  log: Logger;
  /** Set while the router drains: new calls are refused with UNAVAILABLE. */
  isDraining: () => boolean;
  /** Tracks calls in flight, so a draining router can wait for them. */
  track: <T>(work: Promise<T>) => Promise<T>;
}

export function createExecService(deps: ExecServiceDeps): ExecServiceServer {
  const { registry, verifier, log } = deps;

  return {
    execContainer: unaryHandler(log, async (call) => {
      // Auth comes first: nothing about the request is looked at for an unauthenticated caller.
      const principal = await verifier.verify(authorizationOf(call.metadata), requiredScopeByMethod.ExecContainer);
      refuseWhileDraining(deps);
      const plan = validateExecRequest(call.request);
      const candidates = registry.select(plan.target);
      const jobId = randomUUID();
      const timeoutMs = capByDeadline(plan.timeoutMs, call.getDeadline());
      const order = { containerId: plan.containerId, command: plan.command, env: plan.env, workingDir: plan.workingDir, timeoutMs };
      const opts = { signal: cancellationOf(call), answerWithinMs: timeoutMs + AGENT_ANSWER_GRACE_MS };
      const started = performance.now();
      const singleHost = plan.target.kind === "host" || plan.target.kind === "any";
      const results = await deps.track(singleHost ? runOnOne(candidates, order, opts).then((r) => [r]) : fanOut(candidates, order, opts));
      log.info(
        {
          jobId,
          subject: principal.subject,
          target: describeTarget(plan.target),
          container: plan.containerId,
          hosts: results.length,
          durationMs: Math.round(performance.now() - started),
        },
        "exec",
      );
      return { jobId, results };
    }),

    listAgents: unaryHandler(log, async (call) => {
      await verifier.verify(authorizationOf(call.metadata), requiredScopeByMethod.ListAgents);
      return { agents: registry.list().map(agentInfoOf) };
    }),
  };
}

function refuseWhileDraining(deps: ExecServiceDeps): void {
  if (deps.isDraining()) throw new MeshError(GrpcStatus.UNAVAILABLE, "router draining", "the router is shutting down and takes no new execs");
}

function authorizationOf(metadata: Metadata): string | undefined {
  const value = metadata.get("authorization")[0];
  return typeof value === "string" ? value : undefined;
}

/** Aborts when the caller cancels or goes away, so host work still in flight is cancelled too. */
function cancellationOf(call: ServerUnaryCall<unknown, unknown>): AbortSignal {
  const controller = new AbortController();
  call.once("cancelled", () => controller.abort());
  return controller.signal;
}

/** The agent must kill and report before the caller's deadline, so the exec's limit ends a little earlier. */
function capByDeadline(timeoutMs: number, deadline: Date | number): number {
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
  if (!Number.isFinite(deadlineMs)) return timeoutMs;
  const DEADLINE_MARGIN_MS = 500;
  return Math.max(100, Math.min(timeoutMs, deadlineMs - Date.now() - DEADLINE_MARGIN_MS));
}

function agentInfoOf(session: AgentSession): AgentInfo {
  return {
    hostname: session.hostname,
    labels: { ...session.identity.labels },
    connectedSince: session.connectedSince,
    inFlight: session.inFlight,
    version: session.identity.version,
    draining: session.draining,
  };
}
