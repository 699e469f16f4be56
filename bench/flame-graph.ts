/** A call tree node: a function and the samples spent in it and below it. */
export interface FlameNode {
  name: string;
  hits: number;
  children: FlameNode[];
}

const ROW = 16;
const WIDTH = 1600;

/**
 * An SVG flame graph (root at the bottom, width = share of samples), in the style of
 * flamegraph.pl and clinic flame; hovering a frame shows its name and share. Frames narrower
 * than a pixel are left out.
 */
export function flameGraphSvg(root: FlameNode, title: string): string {
  const rects: string[] = [];
  let maxDepth = 0;
  const place = (node: FlameNode, x: number, depth: number) => {
    const width = (node.hits / root.hits) * WIDTH;
    if (width < 1) return;
    maxDepth = Math.max(maxDepth, depth);
    rects.push(frame(node, x, depth, width, (100 * node.hits) / root.hits));
    let childX = x;
    for (const child of node.children) {
      place(child, childX, depth + 1);
      childX += (child.hits / root.hits) * WIDTH;
    }
  };
  place(root, 0, 0);
  const height = (maxDepth + 3) * ROW;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="monospace" font-size="11">`,
    `<text x="4" y="14">${escape(title)}</text>`,
    `<g transform="translate(0 ${height}) scale(1 -1)">`,
    ...rects,
    "</g></svg>",
  ].join("\n");
}

function frame(node: FlameNode, x: number, depth: number, width: number, percent: number): string {
  const y = (depth + 1) * ROW;
  const label = width > 40 ? node.name.slice(0, Math.floor(width / 6.6)) : "";
  // Text is drawn un-flipped inside the flipped group, so it reads the right way up.
  return (
    `<g><title>${escape(node.name)} (${percent.toFixed(1)}%)</title>` +
    `<rect x="${x.toFixed(1)}" y="${y}" width="${width.toFixed(1)}" height="${ROW - 1}" fill="${colorOf(node.name)}"/>` +
    `<text transform="scale(1 -1)" x="${(x + 2).toFixed(1)}" y="${-(y + 4)}">${escape(label)}</text></g>`
  );
}

/** Our code warm, dependencies yellow, Node internals and native frames grey. */
function colorOf(name: string): string {
  if (/ (src|gateway|agent|bench)\//.test(name)) return "#f08a4b";
  if (/ node:|^\(/.test(name)) return "#c8c8c8";
  return "#f2d35b";
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
