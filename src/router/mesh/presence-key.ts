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
