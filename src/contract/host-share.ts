// Not errors/index.js: that loads grpc-js, and the CLI checks its --max-… flags with this.
import { invalidArgument } from "../errors/mesh-error.js";
import { quoteForMessage } from "../errors/quote-for-message.js";

/** A number of hosts as a caller gives it: a whole number, or a percentage of the hosts targeted. */
export type HostShare = { count: number } | { percent: number };

/** Whole numbers past this are refused rather than silently meaning "all": no fleet is that large. */
export const HOST_SHARE_MAX_COUNT = 1_000_000;

/** Parses `max_concurrency` or `max_errors` (the CLI's --max-… flags too, named by `field`): "10" or "10%" (1..100). Absent: undefined. */
export function parseHostShare(field: string, value: string | undefined): HostShare | undefined {
  if (value === undefined) return undefined;
  // No leading zeros, as the OpenAPI document's pattern says: "010" is not quietly 10.
  const percent = /^([1-9]\d?|100)%$/.exec(value);
  if (percent) return { percent: Number(percent[1]) };
  if (/^[1-9]\d{0,6}$/.test(value) && Number(value) <= HOST_SHARE_MAX_COUNT) return { count: Number(value) };
  throw invalidArgument(
    `invalid ${field}`,
    `${field} must be a whole number 1 to ${HOST_SHARE_MAX_COUNT} or a percentage "1%" to "100%", got ${quoteForMessage(value.slice(0, 40))}`,
  );
}

/** How many hosts a share is of `targeted` hosts: a percentage is rounded up, and is at least 1. */
export function hostsOfShare(share: HostShare, targeted: number): number {
  return "count" in share ? share.count : Math.max(1, Math.ceil((share.percent * targeted) / 100));
}
