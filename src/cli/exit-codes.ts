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
  /** 128 + SIGINT, as shells report a process stopped by Ctrl-C. */
  interrupted: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** What 2, 3 and 6 mean for every client command; each command adds the codes it also uses. */
const SHARED_EXIT_CODES: Partial<Record<ExitCodeValue, string>> = {
  [ExitCode.usage]: "usage error: a bad flag or argument here, or a 400 from the edge",
  [ExitCode.auth]: "401 or 403: the token is missing, invalid or lacks the scope",
  [ExitCode.unavailable]: "the edge is unreachable, or the edge or router failed (5xx, 499, or a broken stream)",
};

/** The "Exit codes:" part of a command's --help: the codes it really uses, and what each means for it. */
export function exitCodesHelp(own: Partial<Record<ExitCodeValue, string>>): string {
  const meanings = { ...SHARED_EXIT_CODES, ...own };
  const lines = Object.entries(meanings)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([code, meaning]) => `  ${code.padStart(3)}  ${meaning}`);
  return `Exit codes:\n${lines.join("\n")}`;
}

/** A failure to report as one line on stderr, with the exit code that says which kind it was. */
export class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
    options?: ErrorOptions,
  ) {
    super(message, options);
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
