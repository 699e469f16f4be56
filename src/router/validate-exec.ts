import type { ExecContainerRequest } from "../gen/meshexec/v1/exec.js";
import { invalidArgument, quoteForMessage } from "../errors/index.js";
import { execLimits } from "../contract/index.js";
import { parseTarget, type Target } from "./target.js";
import { parseHostShare, type HostShare } from "../contract/index.js";

/** An ExecContainerRequest that passed validation, with defaults applied. */
export interface ExecPlan {
  target: Target;
  containerId: string;
  command: string[];
  env: string[];
  workingDir: string;
  timeoutMs: number;
  /** Written to the command's stdin; empty: none (stdin stays closed). */
  stdin: Buffer;
  /** Rolling execution: at most this share of the hosts at once; absent: all at once. */
  maxConcurrency?: HostShare;
  /** The error budget: absent, no limit. */
  maxErrors?: HostShare;
}

export function validateExecRequest(request: ExecContainerRequest): ExecPlan {
  return {
    target: parseTarget(request.target),
    containerId: validateContainerId(request.containerId),
    command: validateCommand(request.command),
    env: validateEnv(request.env),
    workingDir: validateWorkingDir(request.workingDir),
    timeoutMs: validateTimeout(request.timeoutSeconds) * 1000,
    stdin: validateStdin(request),
    maxConcurrency: parseHostShare("max_concurrency", request.maxConcurrency),
    maxErrors: parseHostShare("max_errors", request.maxErrors),
  };
}

function validateContainerId(id: string): string {
  if (id.length > execLimits.containerIdMaxLength || !execLimits.containerIdPattern.test(id)) {
    throw invalidArgument(
      "invalid container id",
      `container_id ${quoteForMessage(id)} must match ${execLimits.containerIdPattern.source} and be at most ${execLimits.containerIdMaxLength} characters`,
    );
  }
  return id;
}

function validateCommand(command: string[]): string[] {
  // proto3 cannot tell a missing command from an empty one, so both read as missing.
  if (command.length === 0) {
    throw invalidArgument("invalid command", `command is required: an array of 1 to ${execLimits.commandMaxArgs} strings (argv)`);
  }
  if (command.length > execLimits.commandMaxArgs) {
    throw invalidArgument("invalid command", `command must have 1 to ${execLimits.commandMaxArgs} entries, got ${command.length}`);
  }
  if (command[0] === "") throw invalidArgument("invalid command", "command[0] (the program) must not be empty");
  command.forEach((arg, i) => {
    const bytes = Buffer.byteLength(arg);
    if (bytes > execLimits.commandArgMaxBytes) {
      throw invalidArgument("invalid command", `command[${i}] is ${bytes} bytes; the limit is ${execLimits.commandArgMaxBytes}`);
    }
  });
  return command;
}

function validateEnv(env: string[]): string[] {
  env.forEach((entry, i) => {
    const eq = entry.indexOf("=");
    // Only the key is quoted back: values may be secrets.
    if (eq < 0) throw invalidArgument("invalid env", `env[${i}] must be KEY=VALUE; it has no "="`);
    const key = entry.slice(0, eq);
    // The engine refuses a NUL and quotes the whole entry in its error, value included.
    if (entry.includes("\0")) {
      const where = key.includes("\0") ? "its key" : `the value of ${quoteForMessage(key)}`;
      throw invalidArgument("invalid env", `env[${i}] contains a NUL character (in ${where}); env entries cannot hold one`);
    }
    if (!execLimits.envKeyPattern.test(key)) {
      throw invalidArgument("invalid env", `env[${i}] key ${quoteForMessage(key)} must match ${execLimits.envKeyPattern.source}`);
    }
  });
  return env;
}

function validateWorkingDir(dir: string): string {
  if (dir !== "" && !dir.startsWith("/")) {
    throw invalidArgument("invalid working_dir", `working_dir ${quoteForMessage(dir)} must be an absolute path`);
  }
  return dir;
}

function validateTimeout(seconds: number | undefined): number {
  if (seconds === undefined) return execLimits.defaultTimeoutSeconds;
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > execLimits.maxTimeoutSeconds) {
    throw invalidArgument("invalid timeout_seconds", `timeout_seconds must be 1 to ${execLimits.maxTimeoutSeconds}, got ${seconds}`);
  }
  return seconds;
}

function validateStdin({ stdin, stdinBase64 }: ExecContainerRequest): Buffer {
  if (stdin !== undefined && stdinBase64 !== undefined) {
    throw invalidArgument("invalid stdin", "give stdin (text) or stdin_base64 (binary), not both");
  }
  const bytes = stdinBase64 ?? Buffer.from(stdin ?? "");
  if (bytes.length > execLimits.stdinMaxBytes) {
    const field = stdinBase64 === undefined ? "stdin" : "stdin_base64";
    throw invalidArgument("stdin too large", `${field} is ${bytes.length} bytes; the limit is ${execLimits.stdinMaxBytes}`);
  }
  return bytes;
}
