import type { HostResult } from "./client/api-types.js";

/**
 * How the operator commands (exec, agents, job, jobs) exit, so scripts can tell "the command ran
 * and failed somewhere" from "it never ran", and why it never ran.
 */
export const ExitCode = {
  ok: 0,
  hostFailed: 1,
  usage: 2,
  auth: 3,
  notFound: 4,
  refused: 5,
  unavailable: 6,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export const EXIT_CODES_HELP = `Exit codes:
  0  every targeted host ran the command and it exited 0
  1  the call succeeded, but some host failed, timed out, exited non-zero or is still running
  2  usage error: a bad flag or argument here, or a 400 from the edge
  3  401 or 403: the token is missing, invalid or lacks the scope, or does not allow the target or container
  4  404: no agent matches the target, the container or the job does not exist
  5  409 or 429: the container is not running, or the agents or your subject are at their limit; retry later
  6  the edge is unreachable, or the edge or router failed (5xx, 499, or a broken stream)`;

/** A failure to report as one line on stderr, with the exit code that says which kind it was. */
export class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
  ) {
    super(message);
    this.name = "CliFailure";
  }
}

export function exitCodeOfHttpStatus(status: number): ExitCodeValue {
  if (status === 400) return ExitCode.usage;
  if (status === 401 || status === 403) return ExitCode.auth;
  if (status === 404) return ExitCode.notFound;
  if (status === 409 || status === 429) return ExitCode.refused;
  return ExitCode.unavailable;
}

/** 0 only when every targeted host has a result, and each ran and exited 0. */
export function exitCodeOfResults(results: readonly HostResult[], pendingHosts = 0): ExitCodeValue {
  const allSucceeded = pendingHosts === 0 && results.length > 0 && results.every((r) => r.status === "ok" && r.exit_code === 0);
  return allSucceeded ? ExitCode.ok : ExitCode.hostFailed;
}
