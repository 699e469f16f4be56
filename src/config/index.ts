export { readFlags, positionalsOf, describeFlags, envNameOf, parseHostPort, parseDuration, parseLabels, parsePositiveInt, parseWholeNumber } from "./flags.js";
export type { FlagSpec, FlagSpecs, FlagValues } from "./flags.js";
export { packageRoot } from "./package-root.js";
