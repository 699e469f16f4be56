export { execLimits, AGENT_ANSWER_GRACE_MS } from "./exec-limits.js";
