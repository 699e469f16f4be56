import { parseDuration } from "../config/index.js";
import { execLimits, parseHostShare } from "../contract/index.js";
import { invalidArgument } from "../errors/mesh-error.js";
import { quoteForMessage } from "../errors/quote-for-message.js";
import { formatSeconds } from "./output/time.js";

/** The exec flags that become the request body, as the user typed them. */
export interface ExecFlags {
  container: string;
  env: string[];
  workdir?: string;
  timeout: string;
  "idempotency-key"?: string;
  "max-concurrency"?: string;
  "max-errors"?: string;
}

/** POST …/exec's JSON body. */
export interface ExecRequestBody {
  command: string[];
  env: string[];
  working_dir?: string;
  timeout_seconds: number;
  max_concurrency?: string;
  max_errors?: string;
}

/**
 * Checks what the router would refuse, with the router's own limits (src/contract), but says it
 * in the CLI's words: `--timeout 2h` is "--timeout is 1s to 1h", not "timeout_seconds … 7200".
 * The router still checks everything; this only names the flag, and spares a call.
 */
export function execRequestOf(flags: ExecFlags, command: string[]): ExecRequestBody {
  const { containerIdPattern, containerIdMaxLength, envKeyPattern, commandMaxArgs, commandArgMaxBytes, idempotencyKeyPattern } = execLimits;
  if (flags.container.length > containerIdMaxLength || !containerIdPattern.test(flags.container)) {
    throw invalidArgument(
      "invalid --container",
      `--container is a container name or id (${containerIdPattern.source}, at most ${containerIdMaxLength} characters), got ${quoteForMessage(flags.container)}`,
    );
  }
  for (const entry of flags.env) {
    // Only the key is quoted back: values may be secrets.
    if (!entry.includes("=")) throw invalidArgument("invalid --env", '--env is KEY=VALUE; one has no "="');
    const key = entry.slice(0, entry.indexOf("="));
    if (!envKeyPattern.test(key)) throw invalidArgument("invalid --env", `--env's KEY must match ${envKeyPattern.source}, got ${quoteForMessage(key)}`);
  }
  if (flags.workdir !== undefined && !flags.workdir.startsWith("/")) {
    throw invalidArgument("invalid --workdir", `--workdir is an absolute directory, got ${quoteForMessage(flags.workdir)}`);
  }
  if (command.length > commandMaxArgs)
    throw invalidArgument("command too long", `the command after -- may have at most ${commandMaxArgs} arguments, got ${command.length}`);
  const long = command.findIndex((arg) => Buffer.byteLength(arg) > commandArgMaxBytes);
  if (long >= 0) throw invalidArgument("command too long", `argument ${long + 1} after -- is over ${commandArgMaxBytes} bytes`);
  const key = flags["idempotency-key"];
  if (key !== undefined && !idempotencyKeyPattern.test(key)) {
    throw invalidArgument("invalid --idempotency-key", "--idempotency-key is 1 to 255 printable ASCII characters, without spaces");
  }
  parseHostShare("--max-concurrency", flags["max-concurrency"]);
  parseHostShare("--max-errors", flags["max-errors"]);
  return {
    command,
    env: flags.env,
    working_dir: flags.workdir,
    timeout_seconds: timeoutSecondsOf(flags.timeout),
    max_concurrency: flags["max-concurrency"],
    max_errors: flags["max-errors"],
  };
}

function timeoutSecondsOf(timeout: string): number {
  const ms = parseDuration("timeout", timeout);
  const max = execLimits.maxTimeoutSeconds;
  if (ms % 1000 !== 0 || ms < 1000 || ms > max * 1000) {
    throw invalidArgument("invalid --timeout", `--timeout is a whole number of seconds from 1s to ${formatSeconds(max)}, got ${quoteForMessage(timeout)}`);
  }
  return ms / 1000;
}
