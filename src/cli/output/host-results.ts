import { createHash } from "node:crypto";
import type { HostResult } from "../client/api-types.js";
import type { FlagSpecs } from "../../config/index.js";
import { foldHostnames } from "./fold-hostnames.js";
import { renderTable } from "./table.js";
import { formatDuration } from "./time.js";

/** A targeted host with no result (yet), and what to call that in the STATUS column. */
export interface MissingHost {
  hostname: string;
  status: string;
}

/** The one --no-group flag of exec and job, shared so MESHEXEC_NO_GROUP means the same to both. */
export const noGroupFlag = {
  "no-group": { type: "boolean", description: "print every host's output on its own, even where several hosts' are identical" },
} as const satisfies FlagSpecs;

export interface RenderOptions {
  /**
   * Hosts whose error, stdout, stderr and exit code are all the same get their sections once,
   * under their folded names (`web-[01-40],db-2 (41 hosts)`), as pdsh's `dshbak -c` prints them.
   */
  group?: boolean;
  /** The output was already shown as it came (exec --follow): only the errors follow the table. */
  outputShown?: boolean;
}

/**
 * The HOST/STATUS/EXIT/DURATION table, always one row per host, then the error, stdout and
 * stderr sections headed `==> host stream <==` (as tail heads files), marked [truncated] where
 * the agent dropped output.
 */
export function renderHostResults(results: readonly HostResult[], missing: readonly MissingHost[] = [], options: RenderOptions = {}): string {
  const rows = [
    ...results.map((r) => [r.hostname, r.status, String(r.exit_code ?? "-"), formatDuration(r.duration_ms)]),
    ...missing.map((m) => [m.hostname, m.status, "-", "-"]),
  ].sort((a, b) => a[0].localeCompare(b[0]));
  const groups = options.group ? groupIdentical(results) : results.map((r) => ({ result: r, hostnames: [r.hostname] }));
  const sections = groups.flatMap(({ result: r, hostnames }) => {
    const heading = hostnames.length === 1 ? hostnames[0] : `${foldHostnames(hostnames)} (${hostnames.length} hosts)`;
    return [
      section(heading, "error", errorOf(r), false),
      ...(options.outputShown ? [] : [section(heading, "stdout", r.stdout, r.stdout_truncated), section(heading, "stderr", r.stderr, r.stderr_truncated)]),
    ];
  });
  return [renderTable(["HOST", "STATUS", "EXIT", "DURATION"], rows), ...sections.filter((s) => s !== undefined)].join("\n");
}

function errorOf(result: HostResult): string {
  return result.status === "ok" ? "" : result.error;
}

/**
 * The results with the same sections, each group in the order of its first host. Keyed by a
 * digest, not by the texts themselves: a thousand hosts with a megabyte each would otherwise
 * flatten that much again into keys.
 */
function groupIdentical(results: readonly HostResult[]): Array<{ result: HostResult; hostnames: string[] }> {
  const groups = new Map<string, { result: HostResult; hostnames: string[] }>();
  for (const result of results) {
    const key = createHash("sha256")
      .update(
        JSON.stringify([
          errorOf(result),
          result.exit_code ?? null,
          result.stdout_truncated,
          result.stderr_truncated,
          result.stdout.length,
          result.stderr.length,
        ]),
      )
      .update(result.stdout)
      .update("\0")
      .update(result.stderr)
      .digest("base64");
    const group = groups.get(key);
    if (group) group.hostnames.push(result.hostname);
    else groups.set(key, { result, hostnames: [result.hostname] });
  }
  return [...groups.values()];
}

function section(hostname: string, stream: string, text: string, truncated: boolean): string | undefined {
  if (!text && !truncated) return undefined;
  const mark = truncated ? " [truncated]" : "";
  const body = text === "" || text.endsWith("\n") ? text : `${text}\n`;
  // Marked at the end too: after a long output, the header has scrolled away.
  return `==> ${hostname} ${stream}${mark} <==\n${body}${truncated ? "[truncated]\n" : ""}`;
}
