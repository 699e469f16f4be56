import { PAGE_SIZE } from "../contract/index.js";
import { parsePositiveInt, type FlagValues } from "../config/index.js";
import { invalidArgument } from "../errors/mesh-error.js";

/**
 * Paging of the list commands (jobs, audit). Never read from the environment: an exported
 * MESHEXEC_CURSOR would pin every later listing to one old page.
 */
export const pageFlags = {
  limit: { type: "string", fromEnv: false, default: String(PAGE_SIZE.default), description: `how many to list, 1 to ${PAGE_SIZE.max}` },
  cursor: { type: "string", fromEnv: false, description: "where the previous page ended (its last line names it)" },
} as const;

/** The query for one page, with --limit checked here in the CLI's terms, before any call. */
export function pageQueryOf(flags: FlagValues<typeof pageFlags>): Record<string, string | undefined> {
  const limit = parsePositiveInt("limit", flags.limit);
  if (limit > PAGE_SIZE.max) throw invalidArgument("invalid --limit", `--limit is 1 to ${PAGE_SIZE.max}, got ${flags.limit}`);
  return { limit: String(limit), cursor: flags.cursor };
}

/** The line after a full page: the command that lists the next one. */
export function nextPageLine(command: string, nextCursor: string): string {
  return nextCursor ? `\nmore: meshexec ${command} --cursor ${nextCursor}\n` : "";
}

/** A URL query of the given values, leaving out the unset ones. */
export function queryOf(values: Record<string, string | undefined>): URLSearchParams {
  return new URLSearchParams(Object.entries(values).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
