export { HOST_STATUSES, JOB_STATUSES, PAGE_SIZE, type HostStatus, type JobStatus } from "./api-values.js";
export { execLimits, AGENT_ANSWER_GRACE_MS, AGENTS_HEALTH_SERVICE, DEFAULT_OUTPUT_LIMIT_BYTES, EDGE_AUTHORIZATION_METADATA } from "./exec-limits.js";
