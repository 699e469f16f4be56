const MAX_QUOTED_CHARS = 80;

/**
 * Quotes a caller's value for an error's details: JSON-escaped, so control characters and
 * quotes cannot garble the message, and cut short, so a huge value cannot bloat it.
 */
export function quoteForMessage(value: string): string {
  return JSON.stringify(value.length > MAX_QUOTED_CHARS ? `${value.slice(0, MAX_QUOTED_CHARS)}…` : value);
}
