import { createHash, timingSafeEqual } from "node:crypto";

/** Compares an agent's join token to the configured one in constant time. */
export function joinTokenMatches(expected: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(expected), digest(presented));
}
