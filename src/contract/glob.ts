/**
 * The glob syntax of a token's grants, which the router (hostnames) and the agent (container
 * names) both match: `*` is any run of characters, empty included; `?` is exactly one; every
 * other character is itself; the whole name must match (anchored). Case-sensitive, as the
 * registry's hostnames and Docker's names are. No regular expression is ever built from a
 * caller's pattern: matching is a two-pointer walk that backtracks only to the last `*`, so it
 * costs at most pattern length × name length steps (253 × 253 here), whatever the pattern.
 */
export function matchesGlob(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  // Where the last `*` was, and the name position it is currently taken to end at.
  let star = -1;
  let starEnd = 0;
  while (n < name.length) {
    if (pattern[p] === "*") {
      star = p++;
      starEnd = n;
    } else if (p < pattern.length && (pattern[p] === "?" || pattern[p] === name[n])) {
      p++;
      n++;
    } else if (star >= 0) {
      // Let the last `*` take one more character, and try the rest again from there.
      p = star + 1;
      n = ++starEnd;
    } else {
      return false;
    }
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}

export function matchesAnyGlob(patterns: readonly string[], name: string): boolean {
  return patterns.some((pattern) => matchesGlob(pattern, name));
}
