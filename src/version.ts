/** Reported by agents in their hello and shown in /agents; keep in step with package.json. */
export const MESHEXEC_VERSION = "0.1.0";
