import type { AuditEntry, ListAuditResponse } from "../src/gen/meshexec/v1/audit.js";
import type {
  AgentInfo,
  ExecContainerRequest,
  ExecContainerResponse,
  HostResult,
  ListAgentsResponse,
  RevokeAgentResponse,
  StreamExecContainerResponse,
} from "../src/gen/meshexec/v1/exec.js";
import type { Job, ListJobsResponse } from "../src/gen/meshexec/v1/jobs.js";
import type { RevokeTokenResponse } from "../src/gen/meshexec/v1/tokens.js";
import { errorBodyOf, invalidArgument, quoteForMessage, type MeshError } from "../src/errors/index.js";

/**
 * JSON ↔ proto for the REST routes, as Envoy's gRPC-JSON transcoder would do it: shapes and
 * types only. What the values must be is the router's business, so gRPC callers get the same checks.
 * The return types of the *ToHttp functions are the REST API's JSON shapes: the OpenAPI schemas
 * (openapi/schemas.ts) are typed against them, and the CLI's types (src/cli/client/api-types.ts) are them.
 */

export const EXEC_BODY_FIELDS = ["command", "env", "working_dir", "timeout_seconds", "stdin", "stdin_base64", "max_concurrency", "max_errors"] as const;

export function execRequestFromHttp(target: string, containerId: string, body: unknown): ExecContainerRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw invalidArgument("invalid request body", `the body must be a JSON object, got ${describeJsonType(body)}`);
  }
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((key) => !(EXEC_BODY_FIELDS as readonly string[]).includes(key));
  if (unknown.length > 0) {
    throw invalidArgument("unknown fields", `unknown field(s): ${unknown.map(quoteForMessage).join(", ")}; allowed: ${EXEC_BODY_FIELDS.join(", ")}`);
  }
  return {
    target,
    containerId,
    // A missing command transcodes to none, which the router rejects as required, as it does for gRPC callers.
    command: fields.command === undefined ? [] : stringArray("command", fields.command),
    env: fields.env === undefined ? [] : stringArray("env", fields.env),
    workingDir: fields.working_dir === undefined ? "" : string("working_dir", fields.working_dir),
    timeoutSeconds: fields.timeout_seconds === undefined ? undefined : uint32("timeout_seconds", fields.timeout_seconds),
    stdin: fields.stdin === undefined ? undefined : string("stdin", fields.stdin),
    stdinBase64: fields.stdin_base64 === undefined ? undefined : base64("stdin_base64", fields.stdin_base64),
    maxConcurrency: fields.max_concurrency === undefined ? undefined : hostShare("max_concurrency", fields.max_concurrency),
    maxErrors: fields.max_errors === undefined ? undefined : hostShare("max_errors", fields.max_errors),
  };
}

export function execResponseToHttp(response: ExecContainerResponse) {
  return { job_id: response.jobId, results: response.results.map(hostResultToHttp) };
}

/**
 * One host's result. Without an exit (a timeout, a host where nothing ran) exit_code is left
 * undefined, which JSON.stringify leaves out: the API document types it integer, and a null
 * breaks clients generated from it. Left undefined rather than left out, so every result keeps
 * one object shape (src/router/host-result.ts measured what varying shapes cost in a fan-out).
 */
export function hostResultToHttp(result: HostResult) {
  return {
    hostname: result.hostname,
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    exit_code: result.exitCode,
    changed: result.changed,
    error: result.error,
    duration_ms: result.durationMs,
    stdout_truncated: result.stdoutTruncated,
    stderr_truncated: result.stderrTruncated,
  };
}

/** One NDJSON line of a streamed exec. */
export function streamEventToHttp({ event }: StreamExecContainerResponse) {
  switch (event?.$case) {
    case "accepted":
      return { type: "accepted" as const, job_id: event.value.jobId, hosts: event.value.hosts };
    case "result":
      return { type: "result" as const, result: hostResultToHttp(event.value) };
    case "output":
      return { type: "output" as const, hostname: event.value.hostname, stream: event.value.stream, data: event.value.data };
    case "outputDropped":
      return { type: "output_dropped" as const, queue_limit_bytes: event.value.queueLimitBytes };
    case "summary": {
      const { jobId, targeted, ok, failed, timeout, skipped, cancelled } = event.value;
      return { type: "summary" as const, job_id: jobId, targeted, ok, failed, timeout, skipped, cancelled };
    }
    default:
      // An event from a newer router that this edge does not know: left out of the stream.
      return undefined;
  }
}

/** The last NDJSON line of a streamed exec that failed after its status line was sent. */
export function streamErrorToHttp(err: MeshError) {
  return { type: "error" as const, ...errorBodyOf(err) };
}

export function jobToHttp(job: Job) {
  return {
    job_id: job.jobId,
    subject: job.subject,
    target: job.target,
    container_id: job.containerId,
    command: job.command,
    env_keys: job.envKeys,
    status: job.status,
    error: job.error,
    hosts: job.hosts,
    results: job.results.map(hostResultToHttp),
    created_at: isoOf(job.createdAt),
    updated_at: isoOf(job.updatedAt),
    finished_at: isoOf(job.finishedAt),
  };
}

export function jobListToHttp(response: ListJobsResponse) {
  return { jobs: response.jobs.map(jobToHttp), next_cursor: response.nextCursor };
}

export function auditEntryToHttp(entry: AuditEntry) {
  return {
    id: entry.id,
    time: isoOf(entry.time),
    subject: entry.subject,
    source_address: entry.sourceAddress,
    target: entry.target,
    container_id: entry.containerId,
    command: entry.command,
    grpc_code: entry.grpcCode,
    http_status: entry.httpStatus,
    job_id: entry.jobId,
    request_id: entry.requestId,
    error: entry.error,
  };
}

export function auditPageToHttp(response: ListAuditResponse) {
  return { entries: response.entries.map(auditEntryToHttp), next_cursor: response.nextCursor };
}

export function revokedTokenToHttp(response: RevokeTokenResponse) {
  return { jti: response.jti, revoked_at: isoOf(response.revokedAt) };
}

function isoOf(date: Date | undefined): string | null {
  return date?.toISOString() ?? null;
}

export function agentRevocationToHttp(revocation: RevokeAgentResponse) {
  return { hostname: revocation.hostname, revoked_at: isoOf(revocation.revokedAt), session_ended: revocation.sessionEnded };
}

export function agentToHttp(agent: AgentInfo) {
  return {
    hostname: agent.hostname,
    labels: agent.labels,
    connected_since: isoOf(agent.connectedSince),
    in_flight: agent.inFlight,
    version: agent.version,
    draining: agent.draining,
    router: agent.router,
  };
}

export function agentListToHttp(response: ListAgentsResponse) {
  return { agents: response.agents.map(agentToHttp) };
}

function stringArray(field: string, value: unknown): string[] {
  if (!Array.isArray(value)) throw invalidArgument(`invalid ${field}`, `${field} must be an array of strings, got ${describeJsonType(value)}`);
  value.forEach((item, i) => {
    if (typeof item !== "string") throw invalidArgument(`invalid ${field}`, `${field}[${i}] must be a string, got ${describeJsonType(item)}`);
  });
  return value as string[];
}

function string(field: string, value: unknown): string {
  if (typeof value !== "string") throw invalidArgument(`invalid ${field}`, `${field} must be a string, got ${describeJsonType(value)}`);
  return value;
}

/** Standard base64 with its padding, as proto3's JSON mapping writes bytes; anything else would be decoded leniently into other bytes. */
function base64(field: string, value: unknown): Buffer {
  const text = string(field, value);
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
    throw invalidArgument(`invalid ${field}`, `${field} must be base64 (A-Z, a-z, 0-9, + and /, padded with = to a multiple of 4 characters)`);
  }
  return Buffer.from(text, "base64");
}

function uint32(field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw invalidArgument(`invalid ${field}`, `${field} must be a whole number of seconds, got ${typeof value === "number" ? value : describeJsonType(value)}`);
  }
  return value;
}

/** Names a JSON value's type without quoting it: a misplaced value may be a secret (an env entry, a token). */
/** max_concurrency and max_errors: a number (10) or a string ("10", "10%"), carried as the proto's string; the router checks the value. */
function hostShare(field: string, value: unknown): string {
  if (typeof value === "number") return String(value);
  return string(field, value);
}

function describeJsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return { object: "an object", string: "a string", number: "a number", boolean: "a boolean" }[typeof value as string] ?? typeof value;
}
