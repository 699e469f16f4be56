import type { HostResult } from "../client/api-types.js";
import { renderTable } from "./table.js";
import { formatDuration } from "./time.js";

/** A targeted host with no result (yet), and what to call that in the STATUS column. */
export interface MissingHost {
  hostname: string;
  status: string;
}

/**
 * The HOST/STATUS/EXIT/DURATION table, then each host's error, stdout and stderr in sections
 * headed `==> host stream <==` (as tail heads files), marked [truncated] where the agent dropped output.
 */
export function renderHostResults(results: readonly HostResult[], missing: readonly MissingHost[] = []): string {
  const rows = [
    ...results.map((r) => [r.hostname, r.status, String(r.exit_code ?? "-"), formatDuration(r.duration_ms)]),
    ...missing.map((m) => [m.hostname, m.status, "-", "-"]),
  ].sort((a, b) => a[0].localeCompare(b[0]));
  const sections = results.flatMap((r) => [
    section(r.hostname, "error", r.status === "ok" ? "" : r.error, false),
    section(r.hostname, "stdout", r.stdout, r.stdout_truncated),
    section(r.hostname, "stderr", r.stderr, r.stderr_truncated),
  ]);
  return [renderTable(["HOST", "STATUS", "EXIT", "DURATION"], rows), ...sections.filter((s) => s !== undefined)].join("\n");
}

function section(hostname: string, stream: string, text: string, truncated: boolean): string | undefined {
  if (!text && !truncated) return undefined;
  const mark = truncated ? " [truncated]" : "";
  const body = text === "" || text.endsWith("\n") ? text : `${text}\n`;
  // Marked at the end too: after a long output, the header has scrolled away.
  return `==> ${hostname} ${stream}${mark} <==\n${body}${truncated ? "[truncated]\n" : ""}`;
}
