import { invalidArgument } from "../errors/index.js";

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** 0 (unset) means the default; past the maximum is an error, not a silent clamp. */
export function pageLimitOf(limit: number): number {
  if (limit === 0) return DEFAULT_PAGE_SIZE;
  if (limit > MAX_PAGE_SIZE) throw invalidArgument("invalid limit", `limit must be 1 to ${MAX_PAGE_SIZE}, got ${limit}`);
  return limit;
}
