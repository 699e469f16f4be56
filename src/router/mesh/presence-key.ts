/**
 * The presence bucket's key for a hostname: its bytes in lowercase hex, always a valid KV key and
 * NATS subject token, whatever characters (dots included) the hostname has.
 */
export function presenceKeyOf(hostname: string): string {
  return Buffer.from(hostname, "utf8").toString("hex");
}

export function hostnameOfPresenceKey(key: string): string {
  return Buffer.from(key, "hex").toString("utf8");
}

/**
 * Each router's pulse in the presence bucket, rewritten with every heartbeat so that a router can
 * tell its own watch of the bucket still delivers. Never a presence key: those are hex only.
 */
export function pulseKeyOf(router: string): string {
  return `pulse.${router}`;
}

export function isPulseKey(key: string): boolean {
  return key.startsWith("pulse.");
}
