export {
  readFlags,
  positionalsOf,
  describeFlags,
  envNameOf,
  parseHostPort,
  parseDuration,
  parseLabels,
  parsePositiveInt,
  parseWholeNumber,
  parseChoice,
  formatDuration,
} from "./flags.js";
export { checkFlags, InvalidFlags } from "./check-flags.js";
export type { FlagSpec, FlagSpecs, FlagValues } from "./flags.js";
export { packageRoot } from "./package-root.js";
export { parseRouterAddresses, resolveRouterAddresses, type RouterAddress } from "./router-addresses.js";
