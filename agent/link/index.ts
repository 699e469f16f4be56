export { RouterLink, type RouterLinkOptions } from "./router-link.js";
export { backoffDelayMs, grpcConnectionBackoff, type BackoffPolicy } from "./backoff.js";
