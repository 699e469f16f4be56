/** What an env value is replaced with wherever it shows up in what comes back from a host. */
export const SCRUBBED = "***";

/**
 * Shorter values are masked only as a whole `KEY=VALUE`: masking "1" or "yes" everywhere would
 * wreck the output, and a value that short is no secret worth the damage.
 */
export const MIN_SCRUBBED_VALUE_BYTES = 4;

/**
 * Env values may be secrets, and a command (`env`, `echo $TOKEN`) or the engine (an error that
 * quotes the spec it refused) can send them back. Returns what masks them in a text, or undefined
 * when there is nothing to mask (no env, or only empty values), so the common case costs nothing.
 *
 * The rule: every value of at least MIN_SCRUBBED_VALUE_BYTES bytes, anywhere, as written and
 * JSON-escaped (as error texts quote it), becomes ***; a shorter value only as part of its whole
 * `KEY=VALUE` entry, which becomes `KEY=***`. Longest first, so a value that contains another is
 * masked whole.
 */
export function envScrubberOf(env: readonly string[]): ((text: string) => string) | undefined {
  const ordered = replacementsOf(env);
  if (ordered.length === 0) return undefined;
  return (text) => {
    let scrubbed = text;
    for (const [needle, replacement] of ordered) if (scrubbed.includes(needle)) scrubbed = scrubbed.replaceAll(needle, replacement);
    return scrubbed;
  };
}

/**
 * The same masking for output that arrives in pieces (live output), where a value may be split
 * across two of them: each call masks what it can and holds back the end of the text that could
 * still become a value (the longest end that begins one), to be masked with the next piece or
 * released as is at the end, when it can no longer become one. So no value leaks in two halves.
 * Undefined when there is nothing to mask.
 */
export function pieceScrubberOf(env: readonly string[]): ((text: string) => { release: string; hold: string }) | undefined {
  const scrub = envScrubberOf(env);
  if (!scrub) return undefined;
  const needles = replacementsOf(env).map(([needle]) => needle);
  return (text) => {
    const scrubbed = scrub(text);
    const held = needles.reduce((longest, needle) => Math.max(longest, startedNeedleLength(scrubbed, needle)), 0);
    return { release: scrubbed.slice(0, scrubbed.length - held), hold: scrubbed.slice(scrubbed.length - held) };
  };
}

/** The length of the longest end of `text` that is the start (not the whole) of `needle`. */
function startedNeedleLength(text: string, needle: string): number {
  let at = text.indexOf(needle[0], Math.max(0, text.length - needle.length + 1));
  for (; at >= 0; at = text.indexOf(needle[0], at + 1)) {
    if (needle.startsWith(text.slice(at))) return text.length - at;
  }
  return 0;
}

/** Each text to mask and what replaces it, longest first, so a value that contains another is masked whole. */
function replacementsOf(env: readonly string[]): Array<[string, string]> {
  const replacements = new Map<string, string>();
  for (const entry of env) {
    const eq = entry.indexOf("=");
    const key = entry.slice(0, eq);
    const value = entry.slice(eq + 1);
    if (value === "") continue;
    if (Buffer.byteLength(value) >= MIN_SCRUBBED_VALUE_BYTES) {
      replacements.set(value, SCRUBBED);
      replacements.set(JSON.stringify(value).slice(1, -1), SCRUBBED);
    } else {
      replacements.set(entry, `${key}=${SCRUBBED}`);
    }
  }
  return [...replacements].sort(([a], [b]) => b.length - a.length);
}
