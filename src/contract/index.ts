export { execLimits, AGENT_ANSWER_GRACE_MS, AGENTS_HEALTH_SERVICE } from "./exec-limits.js";
