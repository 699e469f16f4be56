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
  const stamp = new Date(at)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
  return `${stamp} (${formatAge(now - at)} ago)`;
}

function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

/** "0s", "45s", "2m05s", "1h": whole seconds, as --timeout takes them. */
export function formatSeconds(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const parts: [number, string][] = [
    [Math.floor(s / 3600), "h"],
    [Math.floor((s % 3600) / 60), "m"],
    [s % 60, "s"],
  ];
  const first = parts.findIndex(([n]) => n > 0);
  if (first < 0) return "0s";
  // Inner parts keep two digits (2m05s); trailing zero parts go (1h, 2m).
  let last = parts.length - 1;
  while (parts[last][0] === 0) last--;
  return parts
    .slice(first, last + 1)
    .map(([n, unit], i) => `${i === 0 ? n : String(n).padStart(2, "0")}${unit}`)
    .join("");
}
