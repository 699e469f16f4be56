import { pino, type Logger } from "pino";

export type { Logger };

/**
 * Every process logs pino JSON to stdout. The redact list is a safety net: code never passes
 * tokens, Authorization headers or env values to the logger in the first place.
 */
export function createLogger(component: string, level = process.env.MESHEXEC_LOG_LEVEL ?? "info"): Logger {
  return pino({
    level,
    base: { component },
    redact: {
      paths: ["authorization", "*.authorization", "token", "*.token", "env", "*.env", "headers.authorization"],
      censor: "[redacted]",
    },
  });
}
