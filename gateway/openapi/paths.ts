import { GRANT_CLAIMS, scopesAdmitting, type GuardedMethod } from "../../src/auth/index.js";
import { DEFAULT_REQUEST_TIMEOUT_MS, JOB_STATUSES, PAGE_SIZE, execLimits } from "../../src/contract/index.js";
import { IDEMPOTENCY_KEY } from "../routes/exec.js";
import type { OperationObject, ParameterObject, PathItemObject, Reference, RequestBodyObject, ResponseObject } from "./openapi-types.js";
import { authErrors, errorResponses, jsonResponse, ndjsonResponse, routerCallErrors, type ErrorMeanings } from "./responses.js";
import { schemaRef } from "./schemas.js";

export const BEARER_SCHEME = "bearerAuth";

interface OperationSpec {
  summary: string;
  description?: string;
  tags: readonly string[];
  parameters?: readonly (ParameterObject | Reference)[];
  requestBody?: RequestBodyObject;
  success: Record<string, ResponseObject>;
  errors: ErrorMeanings;
}

/**
 * An operation behind a token: its id is the gRPC method, whose scope it needs, from the table the
 * edge and router enforce. Its own 401 and 403 meanings, if any, follow those of every token.
 */
function guarded(method: GuardedMethod, spec: OperationSpec): OperationObject {
  // Several scopes: any one will do, which OpenAPI says as one security requirement per scope.
  const scopes = scopesAdmitting(method);
  const auth = authErrors(scopes.join(" or "));
  const also = (status: 401 | 403) => [auth[status], spec.errors[status]].filter(Boolean).join(" ");
  const security = scopes.map((scope) => ({ [BEARER_SCHEME]: [scope] }));
  return operation(method, security, { ...spec, errors: { ...spec.errors, 401: also(401), 403: also(403) } });
}

function unauthenticated(operationId: string, spec: OperationSpec): OperationObject {
  return operation(operationId, [], spec);
}

function operation(operationId: string, security: OperationObject["security"], spec: OperationSpec): OperationObject {
  const { success, errors, parameters = [], ...rest } = spec;
  return {
    operationId,
    ...rest,
    security,
    parameters: [...parameters, ...traceParameterRefs],
    responses: { ...success, ...errorResponses(errors) },
  };
}

export const parameters = {
  RequestId: {
    name: "x-request-id",
    in: "header",
    description: "Carried to the router and the agent, logged and audited, and echoed back. A malformed one is replaced, not refused.",
    schema: { type: "string" },
  },
  Traceparent: {
    name: "traceparent",
    in: "header",
    description: "W3C trace context to continue. A malformed one is replaced, not refused.",
    schema: { type: "string" },
  },
  Tracestate: {
    name: "tracestate",
    in: "header",
    description: "W3C vendor trace state; kept only with a valid traceparent.",
    schema: { type: "string" },
  },
} satisfies Record<string, ParameterObject>;

const traceParameterRefs: Reference[] = Object.keys(parameters).map((name) => ({ $ref: `#/components/parameters/${name}` }));

const flag = (name: string, description: string): ParameterObject => ({
  name,
  in: "query",
  description: `${description} true or 1; false, 0 or absent for off.`,
  schema: { type: "boolean", default: false },
});

const pageParameters: ParameterObject[] = [
  {
    name: "limit",
    in: "query",
    description: "Page size; 0 or absent means the default.",
    schema: { type: "integer", minimum: 1, maximum: PAGE_SIZE.max, default: PAGE_SIZE.default },
  },
  { name: "cursor", in: "query", description: "The next_cursor of the previous page.", schema: { type: "string" } },
];

const pageErrors: ErrorMeanings = { 400: `limit is not a whole number or is past ${PAGE_SIZE.max}; cursor was not returned by this API.` };

const exec = guarded("ExecContainer", {
  summary: "Run a command in a container on every agent the target selects",
  tags: ["exec"],
  parameters: [
    {
      name: "target",
      in: "path",
      required: true,
      description:
        "A hostname (RFC 1123, at most 253 characters); _any (exactly one healthy agent, the least busy); _all (every agent); or key:value (every agent whose label key is value, each side [A-Za-z0-9_.-]+). Other names starting with _ are reserved.",
      schema: { type: "string", minLength: 1 },
    },
    {
      name: "container_id",
      in: "path",
      required: true,
      description: "The container's name or id.",
      schema: { type: "string", pattern: execLimits.containerIdPattern.source, maxLength: execLimits.containerIdMaxLength },
    },
    flag("async", "Answer 202 at once with the job id and no results; read the job at GET /job/{id}. Not with stream."),
    flag("stream", "Answer 200 application/x-ndjson, one line per event: output as the commands write it, results as hosts finish. Not with async."),
    flag("output", "With stream: false leaves the output events out (results only). Default true."),
    {
      name: "Idempotency-Key",
      in: "header",
      description:
        "The same key with the same request from the same subject within 24 h returns the same job without running anything again; with a different request it is a 409.",
      schema: { type: "string", pattern: IDEMPOTENCY_KEY.source },
    },
  ],
  requestBody: {
    description: `application/json or application/*+json, any parameters; at most ${execLimits.maxBodyBytes} bytes.`,
    required: true,
    content: { "application/json": { schema: schemaRef("ExecRequest") } },
  },
  success: {
    202: jsonResponse("One result per targeted host, sorted by hostname; with async, the job id and no results yet.", "ExecResponse"),
    200: ndjsonResponse(
      "With stream=true: one JSON object per line (the schema is one line's). accepted first, then output as the commands write it and one result per host as it finishes, then summary; or error as the last line when the exec fails after this status was sent.",
      {
        oneOf: [
          schemaRef("StreamAccepted"),
          schemaRef("StreamOutput"),
          schemaRef("StreamOutputDropped"),
          schemaRef("StreamResult"),
          schemaRef("StreamSummary"),
          schemaRef("StreamError"),
        ],
        discriminator: {
          propertyName: "type",
          mapping: {
            accepted: "#/components/schemas/StreamAccepted",
            output: "#/components/schemas/StreamOutput",
            output_dropped: "#/components/schemas/StreamOutputDropped",
            result: "#/components/schemas/StreamResult",
            summary: "#/components/schemas/StreamSummary",
            error: "#/components/schemas/StreamError",
          },
        },
      },
    ),
  },
  errors: {
    ...routerCallErrors,
    400: "The body is not a JSON object, has unknown fields or fields of the wrong type; target, container_id, command, env (a NUL in an entry included), working_dir or timeout_seconds breaks its rule; stdin and stdin_base64 both given, stdin_base64 not base64, or stdin over its limit; max_concurrency or max_errors not 1 to 1000000 or 1% to 100%; async with stream; a malformed query flag or Idempotency-Key.",
    404: "No agent matches the target; for a hostname or _any, the container does not exist. For _all and label targets a missing container is that host's failed result instead.",
    408: `The request's headers and body did not all arrive within the edge's --request-timeout (${DEFAULT_REQUEST_TIMEOUT_MS / 1000} s by default); the connection is closed.`,
    409: "For a hostname or _any, the container is stopped or paused; or the Idempotency-Key was used with a different request.",
    413: `The body is over ${execLimits.maxBodyBytes} bytes, by Content-Length or counted when chunked.`,
    415: "Content-Type is not application/json or application/*+json.",
    429: "The subject is past its rate (--rate-limit, --rate-limit-burst) or has as many execs running as it may (--max-concurrent-execs); or every candidate agent is at its queue limit (hostname, _any). Retry-After says when to try again, for the subject's limits.",
    401: `Or the token's ${GRANT_CLAIMS.targets} or ${GRANT_CLAIMS.containers} claim is malformed.`,
    403: `Or the token's ${GRANT_CLAIMS.targets} claim does not allow a host the target reaches (for _any: none of the connected hosts); or, for a hostname or _any, its ${GRANT_CLAIMS.containers} claim does not allow the container's real name on the node. Nothing ran.`,
  },
});

const listAgents = guarded("ListAgents", {
  summary: "List the agents connected to the router",
  tags: ["agents"],
  success: { 200: jsonResponse("The connected agents.", "AgentList") },
  errors: routerCallErrors,
});

const revokeAgent = guarded("RevokeAgent", {
  summary: "Revoke an agent: end its session and refuse its hostname's credentials issued until now",
  description:
    "Its execs in flight fail, naming the revocation. Tokens with iat and certificates with notBefore at or before revoked_at (whole seconds) are refused from then on, so the agent comes back only with a newly minted credential. Recorded even when the agent is not connected, and audited.",
  tags: ["agents"],
  parameters: [{ name: "hostname", in: "path", required: true, description: "The agent's hostname (RFC 1123).", schema: { type: "string", minLength: 1 } }],
  success: { 200: jsonResponse("The revocation, and whether a live session was ended.", "AgentRevocation") },
  errors: { ...routerCallErrors, 400: "The hostname is not an RFC 1123 hostname." },
});

const getJob = guarded("GetJob", {
  summary: "Read one job",
  tags: ["jobs"],
  parameters: [{ name: "id", in: "path", required: true, description: "The job_id an exec answered with.", schema: { type: "string" } }],
  description: "A caller sees the jobs of its own subject; with the scope job:read:any, every subject's.",
  success: { 200: jsonResponse("The job, with the results of the hosts that have answered so far.", "Job") },
  errors: { ...routerCallErrors, 404: "No job has this id, or it is another subject's and the token lacks job:read:any." },
});

const cancelJob = guarded("CancelJob", {
  summary: "Cancel a running job",
  tags: ["jobs"],
  parameters: [{ name: "id", in: "path", required: true, description: "The job_id an exec answered with.", schema: { type: "string" } }],
  description:
    'Hosts still running are killed (the process tree, as at a timeout) and end "cancelled"; hosts not started end "skipped"; the job ends "cancelled". docker:execute cancels the caller\'s own jobs; job:cancel, every subject\'s. Each cancel is an audit entry. In a mesh, a cancel reaching another router is passed over NATS to the router coordinating the job.',
  success: { 200: jsonResponse("The job as it ended.", "Job") },
  errors: {
    ...routerCallErrors,
    404: "No job has this id, or it is another subject's and the token lacks job:cancel.",
    409: "The job has already ended, or it runs on a router this one cannot reach (no NATS).",
  },
});

const listJobs = guarded("ListJobs", {
  summary: "List jobs, newest first",
  description: "The jobs of the caller's own subject; with the scope job:read:any, every subject's.",
  tags: ["jobs"],
  parameters: [
    { name: "target", in: "query", description: "Only jobs with exactly this target.", schema: { type: "string" } },
    { name: "status", in: "query", description: "Only jobs with this status.", schema: { type: "string", enum: JOB_STATUSES } },
    ...pageParameters,
  ],
  success: { 200: jsonResponse("One page of jobs.", "JobList") },
  errors: { ...routerCallErrors, 400: `status is not one of ${JOB_STATUSES.join(", ")}; or ${pageErrors[400]}` },
});

const listAudit = guarded("ListAudit", {
  summary: "List exec attempts, refused ones included, newest first",
  tags: ["audit"],
  parameters: pageParameters,
  success: { 200: jsonResponse("One page of audit entries.", "AuditPage") },
  errors: { ...routerCallErrors, ...pageErrors },
});

const revokeToken = guarded("RevokeToken", {
  summary: "Revoke a caller token by its jti",
  description:
    "The router refuses the token from its next call on, even one it verified before. Revoking a jti again is not an error. Kept until the longest a token may live (--max-token-ttl) has passed.",
  tags: ["tokens"],
  parameters: [
    {
      name: "jti",
      in: "path",
      required: true,
      description: "The token's jti claim (meshexec token prints it).",
      schema: { type: "string", minLength: 1, maxLength: 128 },
    },
  ],
  success: { 200: jsonResponse("The token is revoked.", "RevokedToken") },
  errors: { ...routerCallErrors, 400: "jti is not 1 to 128 printable ASCII characters." },
});

const health = unauthenticated("GetHealth", {
  summary: "Liveness: the router answers its gRPC health check",
  tags: ["meta"],
  success: { 200: jsonResponse("The router answered within 1 s.", "Health") },
  errors: { 503: "The router did not answer its health check within 1 s." },
});

const ready = unauthenticated("GetReady", {
  summary: "Readiness: the router is reachable and (unless the edge is configured otherwise) has an agent",
  tags: ["meta"],
  success: { 200: jsonResponse("Ready for traffic.", "Ready") },
  errors: { 503: "The router is unreachable or draining, or no agent is connected." },
});

const openApi = unauthenticated("GetOpenApiDocument", {
  summary: "This OpenAPI document",
  tags: ["meta"],
  success: { 200: jsonResponse("The OpenAPI 3.1 document of this API.", "OpenApiDocument") },
  errors: {},
});

/** Path templates use the proto's field names (target, container_id) where the edge's route names differ. */
export const paths: Record<string, PathItemObject> = {
  "/node/{target}/container/docker/{container_id}/exec": { post: exec },
  "/agents": { get: listAgents },
  "/agents/{hostname}/revoke": { post: revokeAgent },
  "/job/{id}": { get: getJob },
  "/job/{id}/cancel": { post: cancelJob },
  "/jobs": { get: listJobs },
  "/audit": { get: listAudit },
  "/tokens/{jti}/revoke": { post: revokeToken },
  "/health": { get: health },
  "/ready": { get: ready },
  "/openapi.json": { get: openApi },
};
