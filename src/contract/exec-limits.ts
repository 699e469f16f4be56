/** The documented limits of one exec request, shared by the router's validation, the edge and the docs. */
export const execLimits = {
  containerIdPattern: /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/,
  containerIdMaxLength: 128,
  /** A hostname's limit (RFC 1123); label selectors are cut to it in the audit log too. */
  targetMaxLength: 253,
  /** Each side of a `key:value` label selector (and of a label grant). */
  labelPartPattern: /^[A-Za-z0-9_.-]+$/,
  commandMaxArgs: 256,
  commandArgMaxBytes: 64 * 1024,
  envKeyPattern: /^[A-Za-z_][A-Za-z0-9_]*$/,
  defaultTimeoutSeconds: 60,
  maxTimeoutSeconds: 3600,
  /** The Idempotency-Key header (REST) and idempotency_key field (gRPC): 1 to 255 printable ASCII characters. */
  idempotencyKeyPattern: /^[\x21-\x7e]{1,255}$/,
  /** The most a request's stdin (stdin or stdin_base64, decoded) may hold. */
  stdinMaxBytes: 1024 * 1024,
  /**
   * Largest REST request body (and gRPC request message): 1 MiB for the request itself, and room
   * for a whole stdin even as base64 (4/3 of it) or as JSON text with escapes.
   */
  maxBodyBytes: 3 * 1024 * 1024,
} as const;

/** How long the edge gives a client to send a whole request, headers and body (gateway --request-timeout); then 408. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** Bytes of stdout and of stderr an agent keeps per exec by default (agent --output-limit, router --agent-output-limit). */
export const DEFAULT_OUTPUT_LIMIT_BYTES = 1024 * 1024;

/** How long past an exec's own time limit the router waits for its agent's answer. */
export const AGENT_ANSWER_GRACE_MS = 5_000;

/** The health-check service name the router reports SERVING while at least one agent is connected. */
export const AGENTS_HEALTH_SERVICE = "meshexec.agents";

/**
 * The metadata key that carries the edge's own credential (a token with `audit:record`) on the
 * calls it forwards for a caller, whose `authorization` is the caller's own.
 */
export const EDGE_AUTHORIZATION_METADATA = "x-meshexec-edge-authorization";
