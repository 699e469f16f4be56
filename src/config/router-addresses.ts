import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { parseHostPort } from "./flags.js";

/** One router to dial: its HOST:PORT, and the name its certificate is for when HOST is an address found in DNS. */
export interface RouterAddress {
  address: string;
  /** Set when the address came from resolving a DNS name: TLS then checks the certificate against this name. */
  serverName?: string;
}

/** --router for agents and the edge: HOST:PORT, or several comma separated. Each is checked. */
export function parseRouterAddresses(flag: string, value: string): string[] {
  const addresses = value
    .split(",")
    .map((address) => address.trim())
    .filter(Boolean);
  if (addresses.length === 0) parseHostPort(flag, value);
  addresses.forEach((address) => parseHostPort(flag, address));
  return addresses;
}

/**
 * The routers to dial: the list as given, or, when it is one DNS name, every address that name
 * resolves to (looked up again each time, so routers added to the name are found). A name that
 * does not resolve stays as it is, for gRPC to report.
 */
export async function resolveRouterAddresses(addresses: readonly string[]): Promise<RouterAddress[]> {
  if (addresses.length !== 1) return addresses.map((address) => ({ address }));
  const { host, port } = parseHostPort("router", addresses[0]);
  if (isIP(host) || host === "localhost") return [{ address: addresses[0] }];
  try {
    const found = await lookup(host, { all: true });
    const unique = [...new Set(found.map((entry) => (entry.family === 6 ? `[${entry.address}]` : entry.address)))];
    if (unique.length <= 1) return [{ address: addresses[0] }];
    return unique.map((ip) => ({ address: `${ip}:${port}`, serverName: host }));
  } catch {
    return [{ address: addresses[0] }];
  }
}
