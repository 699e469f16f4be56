export { HOST_STATUSES, JOB_STATUSES, PAGE_SIZE, type HostStatus, type JobStatus } from "./api-values.js";
export { execLimits, AGENT_ANSWER_GRACE_MS, AGENTS_HEALTH_SERVICE } from "./exec-limits.js";
export { agentHelloLimits, labelProblem } from "./agent-limits.js";
export { matchesAnyGlob, matchesGlob } from "./glob.js";
