import { MeshError } from "../errors/mesh-error.js";

/** Every bad flag of one command, reported together: one line each (src/cli/main.ts). */
export class InvalidFlags extends MeshError {
  constructor(readonly problems: readonly MeshError[]) {
    super(problems[0]!.code, "invalid flags", problems.map((p) => p.message).join("; "));
    this.name = "InvalidFlags";
  }
}

type Parsed<P extends Record<string, () => unknown>> = { [K in keyof P]: ReturnType<P[K]> };

/**
 * Runs every parser (one per flag, or per group of flags read together) before the command opens
 * or listens on anything, and throws every refusal at once, so an operator fixes a unit file in one
 * go rather than one restart per typo. A parser refuses with a MeshError (invalidArgument); any
 * other error is a bug and is thrown as it is.
 */
export function checkFlags<P extends Record<string, () => unknown>>(parsers: P): Parsed<P> {
  const values: Record<string, unknown> = {};
  const problems: MeshError[] = [];
  for (const [name, parse] of Object.entries(parsers)) {
    try {
      values[name] = parse();
    } catch (err) {
      if (!(err instanceof MeshError)) throw err;
      problems.push(...(err instanceof InvalidFlags ? err.problems : [err]));
    }
  }
  if (problems.length === 1) throw problems[0];
  if (problems.length > 1) throw new InvalidFlags(problems);
  return values as Parsed<P>;
}
