import { isIP } from "node:net";
import type { Logger } from "../log/index.js";

/**
 * Logs a warning when a process serves plaintext on an address other hosts can reach: tokens,
 * commands and their output (env values included) would cross the network readable. `fix` names
 * the flags that fix it. Loopback needs no warning: nothing leaves the host.
 */
/** The remedy for a gRPC or HTTP API served in plaintext. */
export const TLS_FIX = "set --tls-cert and --tls-key, or listen on 127.0.0.1 behind a proxy that terminates TLS";

export function warnIfPlaintextOffLoopback(log: Logger, serving: { what: string; host: string; listenFlag: string; fix: string }): void {
  if (isLoopback(serving.host)) return;
  log.warn({ address: serving.host, flag: `--${serving.listenFlag}` }, `${serving.what} is served in plaintext on a non-loopback address; ${serving.fix}`);
}

function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1";
}
