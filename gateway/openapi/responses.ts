import type { HeaderObject, JsonSchema, Reference, ResponseObject } from "./openapi-types.js";
import { schemaRef, type SchemaName } from "./schemas.js";

/** The statuses the edge answers errors with: those of src/errors' table that the API can produce. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 408 | 409 | 413 | 415 | 429 | 499 | 500 | 503 | 504;

/** What an error status means on one operation. */
export type ErrorMeanings = Partial<Record<ErrorStatus, string>>;

export const headers = {
  RequestId: {
    description: "The caller's x-request-id, or a new one when it sent none or a malformed one.",
    required: true,
    schema: { type: "string" },
  },
  Traceparent: {
    description: "W3C trace context for this hop: the caller's trace id and flags (new ones when it sent none) with a new parent id.",
    required: true,
    schema: { type: "string", pattern: "^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$" },
  },
  WwwAuthenticate: {
    description:
      'RFC 6750: "Bearer" without credentials, with error="invalid_token" for a token that did not verify, error="insufficient_scope" for one without the scope.',
    required: true,
    schema: { type: "string", pattern: "^Bearer" },
  },
  RetryAfter: {
    description: "RFC 9110: how many seconds to wait before trying again. Sent when the subject is past its own limits.",
    required: false,
    schema: { type: "integer", minimum: 0 },
  },
} satisfies Record<string, HeaderObject>;

const headerRef = (name: keyof typeof headers): Reference => ({ $ref: `#/components/headers/${name}` });

/** Every response, errors included, echoes these: the edge sets them on the way out. */
const traceHeaders = { "x-request-id": headerRef("RequestId"), traceparent: headerRef("Traceparent") };

export function jsonResponse(description: string, schema: SchemaName): ResponseObject {
  return { description, headers: traceHeaders, content: { "application/json": { schema: schemaRef(schema) } } };
}

export function ndjsonResponse(description: string, line: JsonSchema): ResponseObject {
  return { description, headers: traceHeaders, content: { "application/x-ndjson": { schema: line } } };
}

/** 500 is on every operation: any failure nothing else describes. */
export function errorResponses(meanings: ErrorMeanings): Record<string, ResponseObject> {
  const all: ErrorMeanings = { ...meanings, 500: "Anything else: an internal error." };
  return Object.fromEntries(
    (Object.keys(all).map(Number) as ErrorStatus[]).sort((a, b) => a - b).map((status) => [String(status), errorResponse(all[status] as string, status)]),
  );
}

function errorResponse(description: string, status: ErrorStatus): ResponseObject {
  const extraHeaders: Record<string, Reference> =
    status === 401 || status === 403 ? { "WWW-Authenticate": headerRef("WwwAuthenticate") } : status === 429 ? { "Retry-After": headerRef("RetryAfter") } : {};
  return {
    description,
    headers: { ...traceHeaders, ...extraHeaders },
    content: { "application/json": { schema: schemaRef("ErrorBody") } },
  };
}

export function authErrors(scope: string): ErrorMeanings {
  return {
    401: "No token, or one that does not verify: not Bearer, malformed, bad signature, another algorithm, expired, not yet valid, no exp or sub, living longer than the mesh allows, wrong iss or aud, or revoked.",
    403: `A valid token without the scope ${scope}.`,
  };
}

/** Whatever can go wrong on the way to the router and back. */
export const routerCallErrors: ErrorMeanings = {
  499: "The client cancelled the call (recorded in the audit log; the client is gone by then).",
  503: "The router is unreachable from the edge, or draining.",
  504: "The call's deadline passed.",
};
