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
  if (replacements.size === 0) return undefined;
  const ordered = [...replacements].sort(([a], [b]) => b.length - a.length);
  return (text) => {
    let scrubbed = text;
    for (const [needle, replacement] of ordered) if (scrubbed.includes(needle)) scrubbed = scrubbed.replaceAll(needle, replacement);
    return scrubbed;
  };
}
