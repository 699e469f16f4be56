/**
 * A server could not listen on its address: the port is taken, the address is not this host's,
 * or a low port needs privileges. Servers throw it with the address they tried; the CLI names
 * the flag that sets it (src/cli/listen-flag.ts), since only the CLI knows the flag.
 */
export class ListenError extends Error {
  constructor(
    readonly address: string,
    readonly reason: string,
    options: { cause?: unknown } = {},
  ) {
    super(`cannot listen on ${address}: ${reason}`, { cause: options.cause });
    this.name = "ListenError";
  }
}

const REASON_BY_CODE: Record<string, string> = {
  EADDRINUSE: "the address is already in use",
  EADDRNOTAVAIL: "the address is not one of this host's",
  EACCES: "permission denied (ports below 1024 need privileges)",
  ENOTFOUND: "the host name does not resolve",
};

/**
 * The ListenError for a failed listen: from Node's error (its `code`), or from grpc-js's, which
 * carries the code only in its message ("No address added … [listen EADDRINUSE: …]").
 */
export function listenErrorOf(address: string, err: unknown): ListenError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  const known = (typeof code === "string" && REASON_BY_CODE[code]) || Object.entries(REASON_BY_CODE).find(([c]) => message.includes(c))?.[1];
  const reason = known ?? (/Name resolution failed/.test(message) ? REASON_BY_CODE.ENOTFOUND : message);
  return new ListenError(address, reason, { cause: err });
}
