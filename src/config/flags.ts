import { parseArgs } from "node:util";
import { agentHelloLimits, labelProblem } from "../contract/index.js";
import { invalidArgument } from "../errors/mesh-error.js";

/**
 * One command-line flag. A flag can also come from MESHEXEC_<FLAG> in the environment, unless it
 * says `fromEnv: false`: filters, paging and per-call keys, which an export meant for one command
 * would otherwise silently apply to another (MESHEXEC_TARGET for exec filtering jobs).
 */
export type FlagSpec = (
  | { type: "string"; description: string; default?: string }
  | {
      type: "strings";
      description: string;
      /** How MESHEXEC_<FLAG> separates values: a comma, or a newline where a value may hold commas. */
      envSeparator?: "," | "\n";
    }
  | { type: "boolean"; description: string; default?: boolean }
) & {
  fromEnv?: false;
  /**
   * This flag is an old name of that one: its value (from argv or MESHEXEC_<OLD>) is taken as
   * that flag's, with a warning. Kept so that a unit file or an env file written for the last
   * release keeps working, and says what to change, rather than moving a listener without a word.
   */
  renamedTo?: string;
  /** A one-letter alias, as `-i` for `--stdin`. */
  short?: string;
};

export type FlagSpecs = Record<string, FlagSpec>;

type ValueOf<S extends FlagSpec> = S extends { type: "boolean" }
  ? boolean
  : S extends { type: "strings" }
    ? string[]
    : S extends { default: string }
      ? string
      : string | undefined;

export type FlagValues<S extends FlagSpecs> = { [K in keyof S]: ValueOf<S[K]> };

/** `--docker-socket` → `MESHEXEC_DOCKER_SOCKET`. */
export function envNameOf(flag: string): string {
  return `MESHEXEC_${flag.toUpperCase().replace(/-/g, "_")}`;
}

/**
 * Reads flags from argv, then from the environment (unless the flag says `fromEnv: false`), then
 * from the defaults, in that order. A repeatable flag given in the environment is comma separated.
 */
export function readFlags<S extends FlagSpecs>(
  specs: S,
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): { values: FlagValues<S>; positionals: string[]; warnings: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: parseOptionsOf(specs), allowPositionals: true, strict: true });
  } catch (err) {
    // parseArgs explains some errors over several lines; the CLI reports one line.
    throw invalidArgument("invalid command line", (err as Error).message.replace(/\s*\n\s*/g, " "));
  }
  const values: Record<string, unknown> = {};
  const givenOf = (name: string, spec: FlagSpec): unknown => {
    const fromEnv = spec.fromEnv === false ? undefined : env[envNameOf(name)];
    return (parsed.values as Record<string, unknown>)[name] ?? (fromEnv === undefined ? undefined : fromEnvironment(spec, fromEnv));
  };
  for (const [name, spec] of Object.entries(specs)) values[name] = givenOf(name, spec) ?? defaultOf(spec);
  const warnings: string[] = [];
  for (const [oldName, spec] of Object.entries(specs)) {
    const newName = spec.renamedTo;
    const old = newName === undefined ? undefined : givenOf(oldName, spec);
    if (newName === undefined || old === undefined) continue;
    if (givenOf(newName, specs[newName]!) !== undefined) {
      throw invalidArgument(`invalid --${oldName}`, `--${oldName} is the old name of --${newName}; give only --${newName}`);
    }
    values[newName] = old;
    warnings.push(`--${oldName} (${envNameOf(oldName)}) is deprecated and will be removed: here it is --${newName} (${envNameOf(newName)})`);
  }
  return { values: values as FlagValues<S>, positionals: parsed.positionals, warnings };
}

/**
 * The positional arguments among argv, read leniently (an unknown flag is skipped, not refused),
 * to tell "a command typed without --" from a bad flag: in `--container c ls -l`, "ls".
 */
export function positionalsOf(specs: FlagSpecs, argv: readonly string[]): string[] {
  return parseArgs({ args: [...argv], options: parseOptionsOf(specs), allowPositionals: true, strict: false }).positionals;
}

function parseOptionsOf(specs: FlagSpecs) {
  return Object.fromEntries(
    Object.entries(specs).map(([name, spec]) => [
      name,
      { type: spec.type === "boolean" ? "boolean" : "string", multiple: spec.type === "strings", ...(spec.short && { short: spec.short }) } as const,
    ]),
  );
}

function defaultOf(spec: FlagSpec): unknown {
  if (spec.type === "strings") return [];
  if (spec.type === "boolean") return spec.default ?? false;
  return spec.default;
}

function fromEnvironment(spec: FlagSpec, raw: string): unknown {
  if (spec.type === "strings") {
    return spec.envSeparator === "\n"
      ? raw.split("\n").filter(Boolean)
      : raw
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
  }
  if (spec.type === "boolean") return raw === "1" || raw.toLowerCase() === "true";
  return raw;
}

/** The --help text: each flag with its environment variable and default. */
export function describeFlags(specs: FlagSpecs): string {
  return Object.entries(specs)
    .map(([name, spec]) => {
      const def = "default" in spec && spec.default !== undefined ? ` (default: ${spec.default})` : "";
      const separator = spec.type === "strings" && spec.envSeparator === "\n" ? "one per line" : "comma separated";
      const repeat = spec.type === "strings" ? ` (repeatable${spec.fromEnv === false ? "" : `; in the environment, ${separator}`})` : "";
      if (spec.renamedTo) return `  --${name} VALUE\n      deprecated: the old name of --${spec.renamedTo}\n      env: ${envNameOf(name)}`;
      const env = spec.fromEnv === false ? "none: command line only" : envNameOf(name);
      return `  ${spec.short ? `-${spec.short}, ` : ""}--${name}${spec.type === "boolean" ? "" : " VALUE"}\n      ${spec.description}${repeat}${def}\n      env: ${env}`;
    })
    .join("\n");
}

/** Splits "HOST:PORT" (or "[v6]:PORT"); port 0 asks the OS for a free one. */
export function parseHostPort(flag: string, value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw invalidArgument(`invalid --${flag}`, `expected HOST:PORT, got "${value}"`);
  return { host: match[1] ?? match[2], port };
}

/** Parses "30s", "5m", "1h", "7d" or plain seconds into milliseconds. */
export function parseDuration(flag: string, value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(value.trim());
  if (!match) throw invalidArgument(`invalid --${flag}`, `expected a duration such as 30s, 5m or 1h, got "${value}"`);
  const unitMs = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] ?? "s"]!;
  return Number(match[1]) * unitMs;
}

/** The shortest way to write a whole-unit duration as parseDuration reads it: 604800000 → "7d". */
export function formatDuration(ms: number): string {
  const units = [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ] as const;
  if (ms === 0) return "0s";
  const [unit, size] = units.find(([, size]) => ms % size === 0) ?? ["ms", 1];
  return `${ms / size}${unit}`;
}

/** One of a fixed set of words, such as --runtime docker|noop. */
export function parseChoice<C extends string>(flag: string, value: string, choices: readonly C[]): C {
  if (!(choices as readonly string[]).includes(value)) throw invalidArgument(`invalid --${flag}`, `expected ${choices.join(" or ")}, got "${value}"`);
  return value as C;
}

export function parsePositiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw invalidArgument(`invalid --${flag}`, `expected a positive integer, got "${value}"`);
  return n;
}

/** A count that may be 0, such as a limit where 0 turns it off. */
export function parseWholeNumber(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isSafeInteger(n) || n < 0)
    throw invalidArgument(`invalid --${flag}`, `expected a whole number (0 or more), got "${value}"`);
  return n;
}

/** Repeated --label key=value flags, checked against the bounds the router checks an agent's hello with. */
export function parseLabels(labels: string[]): Record<string, string> {
  if (labels.length > agentHelloLimits.maxLabels)
    throw invalidArgument("invalid --label", `at most ${agentHelloLimits.maxLabels} labels, got ${labels.length}`);
  return Object.fromEntries(
    labels.map((label) => {
      const at = label.indexOf("=");
      const problem = at < 0 ? "it must be key=value" : labelProblem(label.slice(0, at), label.slice(at + 1));
      if (problem) throw invalidArgument("invalid --label", `"${label}": ${problem}`);
      return [label.slice(0, at), label.slice(at + 1)];
    }),
  );
}
