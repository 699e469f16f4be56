export { HOST_STATUSES, JOB_STATUSES, OUTPUT_STREAMS, PAGE_SIZE, type HostStatus, type JobStatus, type OutputStreamName } from "./api-values.js";
export {
  execLimits,
  AGENT_ANSWER_GRACE_MS,
  AGENTS_HEALTH_SERVICE,
  DEFAULT_OUTPUT_LIMIT_BYTES,
  DEFAULT_REQUEST_TIMEOUT_MS,
  EDGE_AUTHORIZATION_METADATA,
} from "./exec-limits.js";
export { agentHelloLimits, labelProblem } from "./agent-limits.js";
export { matchesAnyGlob, matchesGlob } from "./glob.js";
export { DEFAULT_GRPC_ADDRESS, DEFAULT_REST_ADDRESS } from "./addresses.js";
export { DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_KEEPALIVE_MS } from "./link-timing.js";
export { HOST_SHARE_MAX_COUNT, hostsOfShare, parseHostShare, type HostShare } from "./host-share.js";
