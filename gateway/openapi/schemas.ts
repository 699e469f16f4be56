import { execLimits } from "../../src/contract/index.js";
import { GrpcStatus, type ErrorBody } from "../../src/errors/index.js";
import { HOST_SHARE_MAX_COUNT, HOST_STATUSES, JOB_STATUSES, OUTPUT_STREAMS } from "../../src/contract/index.js";
import type {
  EXEC_BODY_FIELDS,
  agentListToHttp,
  agentRevocationToHttp,
  agentToHttp,
  auditEntryToHttp,
  auditPageToHttp,
  execResponseToHttp,
  hostResultToHttp,
  jobListToHttp,
  jobToHttp,
  revokedTokenToHttp,
  streamErrorToHttp,
  streamEventToHttp,
} from "../transcode.js";
import type { JsonSchema } from "./openapi-types.js";

/**
 * The JSON shapes of the REST API. Each object's properties are typed as exactly the keys its
 * transcode function returns, so a field added or renamed there fails to compile here.
 */

// Keys typed undefined are the other members' of a union that TypeScript normalised in, not fields.
type PropertiesOf<T> = { [K in keyof T as T[K] extends undefined ? never : K]-?: JsonSchema };
type StreamLine<Type> = Extract<ReturnType<typeof streamEventToHttp>, { type: Type }>;

export type SchemaName =
  | "ErrorBody"
  | "ExecRequest"
  | "HostResult"
  | "ExecResponse"
  | "StreamAccepted"
  | "StreamResult"
  | "StreamSummary"
  | "StreamOutput"
  | "StreamOutputDropped"
  | "StreamError"
  | "Job"
  | "JobList"
  | "AuditEntry"
  | "AuditPage"
  | "Agent"
  | "AgentList"
  | "AgentRevocation"
  | "Health"
  | "Ready"
  | "RevokedToken"
  | "OpenApiDocument";

export const schemaRef = (name: SchemaName): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

/** The keys a transcode function may leave undefined, which JSON.stringify leaves out. */
type OptionalKeys<T> = { [K in keyof T]-?: undefined extends T[K] ? K : never }[keyof T];

/**
 * A response object: no field but these, and every one always present (proto3 defaults) except
 * the `optional` ones, which are absent when they have no value (never null).
 */
function closedObject<T>(description: string, properties: PropertiesOf<T>, optional: readonly OptionalKeys<T>[] = []): JsonSchema {
  const required = Object.keys(properties).filter((key) => !(optional as readonly string[]).includes(key));
  return { type: "object", description, properties, required, additionalProperties: false };
}

const string = (description?: string): JsonSchema => ({ type: "string", ...(description && { description }) });
const count = (description: string): JsonSchema => ({ type: "integer", minimum: 0, description });
const strings = (description: string): JsonSchema => ({ type: "array", items: { type: "string" }, description });
const timestamp = (description: string): JsonSchema => ({ type: ["string", "null"], format: "date-time", description });
const typeTag = (type: string): JsonSchema => ({ type: "string", enum: [type] });
const nextCursor: JsonSchema = string("Pass it back as ?cursor= for the next (older) page; empty on the last page.");

const commandArg: JsonSchema = {
  type: "string",
  // JSON Schema counts characters; the limit is in UTF-8 bytes, which is never fewer.
  maxLength: execLimits.commandArgMaxBytes,
  description: `At most ${execLimits.commandArgMaxBytes} bytes in UTF-8.`,
};

const execRequestProperties: Record<(typeof EXEC_BODY_FIELDS)[number], JsonSchema> = {
  command: {
    type: "array",
    description: "argv, passed as is: no shell, no splitting. The first entry (the program) must not be empty.",
    minItems: 1,
    maxItems: execLimits.commandMaxArgs,
    prefixItems: [{ ...commandArg, minLength: 1 }],
    items: commandArg,
  },
  env: {
    type: "array",
    description: 'KEY=VALUE entries; an entry without "=" is an error, never dropped.',
    // The key pattern, no longer anchored at the end but followed by "=" and any value.
    items: { type: "string", pattern: `${execLimits.envKeyPattern.source.replace(/\$$/, "")}=` },
  },
  working_dir: { type: "string", pattern: "^(?:/|$)", description: "An absolute path inside the container; empty means the container's default." },
  timeout_seconds: {
    type: "integer",
    minimum: 1,
    maximum: execLimits.maxTimeoutSeconds,
    default: execLimits.defaultTimeoutSeconds,
    description: "Per-host time limit; capped by the call's deadline unless async.",
  },
  stdin: {
    type: "string",
    // Characters, which are never more than the UTF-8 bytes the limit counts.
    maxLength: execLimits.stdinMaxBytes,
    description: `Written to the command's standard input, which is then closed; at most ${execLimits.stdinMaxBytes} bytes in UTF-8. Absent: stdin stays closed. Not with stdin_base64.`,
  },
  stdin_base64: {
    type: "string",
    pattern: "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$",
    description: `The same for binary data, as standard padded base64; at most ${execLimits.stdinMaxBytes} bytes once decoded. Not with stdin.`,
  },
  max_concurrency: hostShare(
    "Rolling execution: at most this many hosts run at once, started in hostname order, the next as soon as one finishes. Absent: every host at once.",
  ),
  max_errors: hostShare(
    'Error budget: once more hosts than this have erred (status not ok, or exit code not 0), no more hosts start; those end "skipped". Hosts already running finish. Absent: no limit.',
  ),
};

/** max_concurrency and max_errors: a whole number, or a percentage of the targeted hosts (rounded up, at least 1). */
function hostShare(description: string): JsonSchema {
  return {
    oneOf: [
      { type: "integer", minimum: 1, maximum: HOST_SHARE_MAX_COUNT },
      { type: "string", pattern: "^(?:[1-9][0-9]{0,5}|1000000|(?:[1-9][0-9]?|100)%)$" },
    ],
    description: `${description} A whole number (10, or "10") or a percentage of the targeted hosts ("10%", 1% to 100%, rounded up, at least 1).`,
  };
}

const hostResult = closedObject<ReturnType<typeof hostResultToHttp>>(
  "One targeted host's outcome. Every targeted host gets exactly one.",
  {
    hostname: string("The agent."),
    status: {
      type: "string",
      enum: HOST_STATUSES,
      description:
        "ok: the command ran, whatever its exit code; failed: it could not run or its agent was lost; timeout: it was killed at the time limit; skipped: it was never started (max_errors spent, or the job cancelled first); cancelled: it was killed by a cancel of its job.",
    },
    stdout: string(),
    stderr: string(),
    exit_code: { type: "integer", description: "The command's exit code. Absent, never null, when it did not run to an exit (status and error say why)." },
    changed: { type: "boolean", description: "True exactly when the command ran." },
    error: string("Why, when status is not ok; empty otherwise."),
    duration_ms: count("How long the host took."),
    stdout_truncated: { type: "boolean", description: "Output past the agent's cap was dropped." },
    stderr_truncated: { type: "boolean", description: "Output past the agent's cap was dropped." },
  },
  ["exit_code"],
);

export const schemas: Record<SchemaName, JsonSchema> = {
  ErrorBody: closedObject<ErrorBody>("Every error, from every layer, has this shape.", {
    error: { type: "string", minLength: 1, description: "A short sentence." },
    details: { type: "string", minLength: 1, description: "What exactly: the field, the rule and the limit. Never quotes an env value, a token or the body." },
    code: { type: "integer", minimum: 400, maximum: 599, description: "The HTTP status, repeated." },
  }),
  ExecRequest: {
    type: "object",
    properties: execRequestProperties,
    required: ["command"],
    additionalProperties: false,
    description: "No other fields: unknown ones are a 400 that names them.",
  },
  HostResult: hostResult,
  ExecResponse: closedObject<ReturnType<typeof execResponseToHttp>>("One result per targeted host, sorted by hostname; none when async.", {
    job_id: string("The job, readable at GET /job/{id}."),
    results: { type: "array", items: schemaRef("HostResult") },
  }),
  StreamAccepted: closedObject<StreamLine<"accepted">>("The first line: the job and the hosts the target selected.", {
    type: typeTag("accepted"),
    job_id: string(),
    hosts: strings("Empty for _any, which runs on exactly one host."),
  }),
  StreamResult: closedObject<StreamLine<"result">>("One host's result, as soon as that host finishes.", {
    type: typeTag("result"),
    result: schemaRef("HostResult"),
  }),
  StreamOutput: closedObject<StreamLine<"output">>(
    "A piece of one host's output as the command wrote it (unless output=false): in order per host and stream, all before that host's result; env values masked and output caps applied as in results, which still carry the whole kept output.",
    {
      type: typeTag("output"),
      hostname: string(),
      stream: { type: "string", enum: OUTPUT_STREAMS },
      data: string("UTF-8 text; invalid bytes become U+FFFD, as in results."),
    },
  ),
  StreamOutputDropped: closedObject<StreamLine<"output_dropped">>(
    "The reader fell behind: more output waited to be sent than the router holds for one call, so no more output events follow. Results and the summary still come, with the whole kept output. At most once.",
    {
      type: typeTag("output_dropped"),
      queue_limit_bytes: count("The bound that was passed."),
    },
  ),
  StreamSummary: closedObject<StreamLine<"summary">>("The last line of a stream that completed.", {
    type: typeTag("summary"),
    job_id: string(),
    targeted: count("Hosts the target selected."),
    ok: count("Results with status ok."),
    failed: count("Results with status failed."),
    timeout: count("Results with status timeout."),
    skipped: count("Results with status skipped."),
    cancelled: count("Results with status cancelled."),
  }),
  StreamError: closedObject<ReturnType<typeof streamErrorToHttp>>("The last line of a stream that failed after its 200 was sent.", {
    type: typeTag("error"),
    error: string(),
    details: string(),
    code: { type: "integer", description: "The HTTP status the failure maps to." },
  }),
  Job: closedObject<ReturnType<typeof jobToHttp>>("The record an exec leaves behind.", {
    job_id: string(),
    subject: string("The subject of the token that started it."),
    target: string(),
    container_id: string(),
    command: strings("argv."),
    env_keys: strings("The env keys sent; their values are never stored."),
    status: {
      type: "string",
      enum: JOB_STATUSES,
      description: "completed: every host ran; partial_failure: some did; failed: none did; cancelled: POST /job/{id}/cancel ended it.",
    },
    error: string("Why the job as a whole failed, e.g. router restarted; empty otherwise."),
    hosts: strings("The hosts the target selected."),
    results: { type: "array", items: schemaRef("HostResult"), description: "One per host that has answered so far." },
    created_at: timestamp("When the job started."),
    updated_at: timestamp("When it last changed."),
    finished_at: timestamp("Null while running."),
  }),
  JobList: closedObject<ReturnType<typeof jobListToHttp>>("Newest first.", {
    jobs: { type: "array", items: schemaRef("Job") },
    next_cursor: nextCursor,
  }),
  AuditEntry: closedObject<ReturnType<typeof auditEntryToHttp>>("One exec attempt, refused ones included.", {
    id: string(),
    time: timestamp("When the attempt was made."),
    subject: string("Empty when the token did not verify."),
    source_address: string("The caller's address as the edge saw it."),
    target: string(),
    container_id: string(),
    command: strings("argv."),
    grpc_code: { type: "string", enum: Object.keys(GrpcStatus).filter((name) => Number.isNaN(Number(name))), description: "The gRPC status name." },
    http_status: { type: "integer", description: "The HTTP status the attempt was answered with." },
    job_id: string("Empty when no job was started."),
    request_id: string("The x-request-id of the attempt."),
    error: string("The error's short sentence, when refused."),
  }),
  AuditPage: closedObject<ReturnType<typeof auditPageToHttp>>("Newest first.", {
    entries: { type: "array", items: schemaRef("AuditEntry") },
    next_cursor: nextCursor,
  }),
  Agent: closedObject<ReturnType<typeof agentToHttp>>("An agent of the fleet, connected to one of the routers.", {
    hostname: string(),
    labels: { type: "object", additionalProperties: { type: "string" } },
    connected_since: timestamp("When its current session began."),
    in_flight: count("Execs it is running now."),
    version: string("The agent's meshexec version."),
    draining: { type: "boolean", description: "It takes no new execs." },
    router: string("The router holding its stream (that router's --name); every router lists the whole fleet."),
  }),
  AgentRevocation: closedObject<ReturnType<typeof agentRevocationToHttp>>("A revoked agent hostname.", {
    hostname: string(),
    revoked_at: timestamp("Credentials for the hostname issued at or before this instant are refused."),
    session_ended: { type: "boolean", description: "The agent was connected, and its session was ended." },
  }),
  AgentList: closedObject<ReturnType<typeof agentListToHttp>>("The whole fleet: every router's agents.", {
    agents: { type: "array", items: schemaRef("Agent") },
  }),
  Health: closedObject<{ status: unknown }>("The router answers its health check.", { status: typeTag("ok") }),
  Ready: closedObject<{ status: unknown }>("The edge can take traffic.", { status: typeTag("ready") }),
  RevokedToken: closedObject<ReturnType<typeof revokedTokenToHttp>>("A revoked caller token.", {
    jti: string("The token's jti."),
    revoked_at: timestamp("When it was first revoked; revoking it again keeps this time."),
  }),
  OpenApiDocument: { type: "object", description: "This document." },
};
