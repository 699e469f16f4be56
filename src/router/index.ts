export { DEFAULT_READINESS, type ReadinessConfig } from "./agents-readiness.js";
export { DEFAULT_JOB_TTL_MS, DEFAULT_MAX_FANOUT_OUTPUT_BYTES, startRouter, type RouterOptions, type RunningRouter } from "./server.js";
export { parseTarget, describeTarget, type Target } from "./target.js";
export { validateExecRequest, type ExecPlan } from "./validate-exec.js";
export { DEFAULT_SUBJECT_LIMITS, type SubjectLimitsConfig } from "./subject-limits.js";
export { connectNats, type NatsOptions } from "./mesh/connect-nats.js";
