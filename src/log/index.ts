import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger };

let stdout: DestinationStream | undefined;

/**
 * Every process logs pino JSON to stdout. The redact list is a safety net: code never passes
 * tokens, Authorization headers or env values to the logger in the first place.
 */
export function createLogger(component: string, level = process.env.MESHEXEC_LOG_LEVEL ?? "info"): Logger {
  // Each hop logs a line per exec: written without blocking the event loop, and flushed on exit.
  stdout ??= pino.destination({ sync: false });
  return pino(
    {
      level,
      base: { component },
      redact: {
        paths: ["authorization", "*.authorization", "token", "*.token", "env", "*.env", "headers.authorization"],
        censor: "[redacted]",
      },
    },
    stdout,
  );
}
