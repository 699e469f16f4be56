/**
 * Folds hostnames into pdsh's hostlist form: `web-01`…`web-40` and `db-2` become
 * `db-2,web-[01-40]`. Names are grouped by everything before their trailing number (and by its
 * width when zero-padded, so `web-01` and `web-1` stay apart); each group's numbers become ranges.
 */
export function foldHostnames(hostnames: readonly string[]): string {
  const numbered: Array<{ prefix: string; digits: string }> = [];
  const plain: string[] = [];
  for (const hostname of hostnames) {
    const match = /^(.*?)(\d+)$/.exec(hostname);
    // Past 15 digits a number loses precision, and such a name is not a counter anyway.
    if (match && match[2].length <= 15) numbered.push({ prefix: match[1], digits: match[2] });
    else plain.push(hostname);
  }
  // A width is zero-padded for a prefix when any of its numbers of that width starts with 0: web-01…web-40 is one range.
  const padded = new Set(numbered.filter((n) => n.digits.length > 1 && n.digits.startsWith("0")).map((n) => `${n.prefix}\0${n.digits.length}`));
  const groups = new Map<string, { prefix: string; width: number; numbers: number[] }>();
  for (const { prefix, digits } of numbered) {
    const width = padded.has(`${prefix}\0${digits.length}`) ? digits.length : 0;
    const key = `${prefix}\0${width}`;
    const group = groups.get(key) ?? { prefix, width, numbers: [] };
    group.numbers.push(Number(digits));
    groups.set(key, group);
  }
  const folded = [...groups.values()].map(({ prefix, width, numbers }) => {
    const ranges = rangesOf(numbers).map(([from, to]) => {
      const pad = (n: number) => String(n).padStart(width, "0");
      return from === to ? pad(from) : `${pad(from)}-${pad(to)}`;
    });
    return { sortKey: prefix, text: ranges.length === 1 && !ranges[0].includes("-") ? `${prefix}${ranges[0]}` : `${prefix}[${ranges.join(",")}]` };
  });
  return [...folded, ...plain.map((hostname) => ({ sortKey: hostname, text: hostname }))]
    .sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0))
    .map((entry) => entry.text)
    .join(",");
}

/** Sorted, deduplicated numbers as [from, to] runs of consecutive values. */
function rangesOf(numbers: number[]): Array<[number, number]> {
  const sorted = [...new Set(numbers)].sort((a, b) => a - b);
  const ranges: Array<[number, number]> = [];
  for (const n of sorted) {
    const last = ranges[ranges.length - 1];
    if (last && n === last[1] + 1) last[1] = n;
    else ranges.push([n, n]);
  }
  return ranges;
}
