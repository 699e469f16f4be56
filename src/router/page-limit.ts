import { PAGE_SIZE } from "../contract/index.js";
import { invalidArgument } from "../errors/index.js";

/** 0 (unset) means the default; past the maximum is an error, not a silent clamp. */
export function pageLimitOf(limit: number): number {
  if (limit === 0) return PAGE_SIZE.default;
  if (limit > PAGE_SIZE.max) throw invalidArgument("invalid limit", `limit must be 1 to ${PAGE_SIZE.max}, got ${limit}`);
  return limit;
}
