/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): the functions with the most self time,
 * with their inclusive time; optionally an SVG flame graph, and the folded stacks other
 * flame-graph tools take (flamegraph.pl, speedscope, inferno).
 * Usage: node dist/bench/profile-summary.js FILE.cpuprofile [--top 25] [--inclusive] [--svg OUT.svg] [--folded OUT.folded]
 * (--inclusive ranks by inclusive time instead of self time.)
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { flameGraphSvg, type FlameNode } from "./flame-graph.js";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: "string", default: "25" }, folded: { type: "string" }, svg: { type: "string" }, inclusive: { type: "boolean" } },
});
const profile = JSON.parse(readFileSync(positionals[0], "utf8")) as Profile;
const msPerSample = (profile.endTime - profile.startTime) / 1000 / Math.max(profile.samples.length, 1);
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const childIds = new Set(profile.nodes.flatMap((node) => node.children ?? []));
const roots = profile.nodes.filter((node) => !childIds.has(node.id));

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
const folded = new Map<string, number>();

/** Walks the call tree once, building the flame graph's tree; a function recursing on itself counts once towards its inclusive time. */
function walk(node: ProfileNode, stack: string[], onStack: Map<string, number>, parent: FlameNode): number {
  const key = keyOf(node);
  const hits = node.hitCount ?? 0;
  self.set(key, (self.get(key) ?? 0) + hits);
  const path = [...stack, key];
  if (hits > 0) folded.set(path.join(";"), (folded.get(path.join(";")) ?? 0) + hits);
  onStack.set(key, (onStack.get(key) ?? 0) + 1);
  const flame: FlameNode = { name: key, hits: 0, children: [] };
  if (key !== "(idle)") parent.children.push(flame);
  let total = hits;
  for (const id of node.children ?? []) total += walk(byId.get(id)!, path, onStack, flame);
  flame.hits = total;
  onStack.set(key, onStack.get(key)! - 1);
  if (onStack.get(key) === 0) inclusive.set(key, (inclusive.get(key) ?? 0) + total);
  return total;
}

function keyOf(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url ? `${url.replace(/^file:\/\/.*?\/node_modules\//, "").replace(/^file:\/\/.*?\/dist\//, "")}:${lineNumber + 1}` : "";
  return `${functionName || "(anonymous)"}${where ? ` ${where}` : ""}`;
}

const flameRoot: FlameNode = { name: "all", hits: 0, children: [] };
const totalHits = roots.reduce((sum, root) => sum + walk(root, [], new Map(), flameRoot), 0);
const idle = ["(idle)", "(program)", "(garbage collector)"].map((name) => self.get(name) ?? 0);
const busyHits = totalHits - idle[0];
const pct = (hits: number) => ((100 * hits) / Math.max(busyHits, 1)).toFixed(1).padStart(5);

process.stdout.write(
  `${positionals[0]}: ${(totalHits * msPerSample).toFixed(0)} ms sampled, ${(busyHits * msPerSample).toFixed(0)} ms busy (not idle); ` +
    `GC ${pct(idle[2])}%, program ${pct(idle[1])}% of busy\n  self%  incl%  self ms  function\n`,
);
const rankBy = values.inclusive ? inclusive : self;
[...self.entries()]
  .filter(([key]) => key !== "(idle)")
  .sort((a, b) => rankBy.get(b[0])! - rankBy.get(a[0])!)
  .slice(0, Number(values.top))
  .forEach(([key, hits]) => process.stdout.write(`  ${pct(hits)}  ${pct(inclusive.get(key) ?? 0)}  ${(hits * msPerSample).toFixed(0).padStart(7)}  ${key}\n`));

if (values.svg) {
  flameRoot.hits = busyHits;
  // The profile's root frame holds (idle) among its children; without it the root's share is the busy time.
  flameRoot.children.forEach((root) => (root.hits -= idle[0]));
  writeFileSync(values.svg, flameGraphSvg(flameRoot, `${positionals[0]}: ${(busyHits * msPerSample).toFixed(0)} ms busy`));
  process.stdout.write(`flame graph: ${values.svg}\n`);
}

if (values.folded) {
  writeFileSync(values.folded, [...folded.entries()].map(([stack, hits]) => `${stack.replace(/ /g, "_")} ${hits}`).join("\n") + "\n");
  process.stdout.write(`folded stacks: ${values.folded}\n`);
}
