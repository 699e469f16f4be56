/** The documented limits of one exec request, shared by the router's validation, the edge and the docs. */
export const execLimits = {
  containerIdPattern: /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/,
  containerIdMaxLength: 128,
  /** Each side of a `key:value` label selector (and of a label grant). */
  labelPartPattern: /^[A-Za-z0-9_.-]+$/,
  commandMaxArgs: 256,
  commandArgMaxBytes: 64 * 1024,
  envKeyPattern: /^[A-Za-z_][A-Za-z0-9_]*$/,
  defaultTimeoutSeconds: 60,
  maxTimeoutSeconds: 3600,
  /** The Idempotency-Key header (REST) and idempotency_key field (gRPC): 1 to 255 printable ASCII characters. */
  idempotencyKeyPattern: /^[\x21-\x7e]{1,255}$/,
  /** Largest REST request body. */
  maxBodyBytes: 1024 * 1024,
} as const;

/** How long past an exec's own time limit the router waits for its agent's answer. */
export const AGENT_ANSWER_GRACE_MS = 5_000;

/** The health-check service name the router reports SERVING while at least one agent is connected. */
export const AGENTS_HEALTH_SERVICE = "meshexec.agents";
