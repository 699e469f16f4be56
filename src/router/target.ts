import { execLimits, labelProblem } from "../contract/index.js";
import { invalidArgument, quoteForMessage } from "../errors/index.js";

/** What an exec's `target` selects. */
export type Target = { kind: "host"; hostname: string } | { kind: "any" } | { kind: "all" } | { kind: "label"; key: string; value: string };

const HOSTNAME_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const MAX_HOSTNAME_LENGTH = execLimits.targetMaxLength;

export function parseTarget(raw: string): Target {
  if (raw === "") throw invalidArgument("invalid target", "target (the :hostname path segment) must not be empty");
  if (raw === "_any") return { kind: "any" };
  if (raw === "_all") return { kind: "all" };
  // Selectors come before the reserved check: agents may carry labels whose key starts with "_".
  if (raw.includes(":")) return parseLabelSelector(raw);
  if (raw.startsWith("_")) {
    throw invalidArgument("invalid target", `target ${quoteForMessage(raw)} is reserved: names starting with "_" are only _any and _all`);
  }
  if (!isHostname(raw)) {
    throw invalidArgument(
      "invalid target",
      `target ${quoteForMessage(raw)} is not a hostname (RFC 1123 labels, at most ${MAX_HOSTNAME_LENGTH} characters), _any, _all or key:value`,
    );
  }
  return { kind: "host", hostname: raw };
}

function parseLabelSelector(raw: string): Target {
  const parts = raw.split(":");
  const problem = parts.length === 2 ? labelProblem(parts[0], parts[1]) : "it must have exactly one colon";
  if (problem) throw invalidArgument("invalid target", `target ${quoteForMessage(raw)} is a label selector, key:value: ${problem}`);
  return { kind: "label", key: parts[0], value: parts[1] };
}

export function isHostname(name: string): boolean {
  return name.length <= MAX_HOSTNAME_LENGTH && name.split(".").every((label) => HOSTNAME_LABEL.test(label));
}

export function describeTarget(target: Target): string {
  switch (target.kind) {
    case "host":
      return target.hostname;
    case "label":
      return `${target.key}:${target.value}`;
    default:
      return `_${target.kind}`;
  }
}
