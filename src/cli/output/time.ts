/** "41 ms", "3.2 s", "2m05s": exact for quick commands, readable for slow ones. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, "0")}s`;
}

/** "2024-05-01 12:00:03Z (5m ago)": the instant, in UTC to the second, and how long ago it was. */
export function formatInstant(iso: string | null | undefined, now = Date.now()): string {
  const at = iso ? Date.parse(iso) : NaN;
  if (Number.isNaN(at)) return "-";
  const stamp = new Date(at).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
  return `${stamp} (${formatAge(now - at)} ago)`;
}

function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}
