/**
 * What an agent may send before and in its hello, shared by the router's checks, the agent's
 * own flags and the docs. Labels follow Kubernetes' label rules for sizes, with meshexec's charset.
 */
export const agentHelloLimits = {
  /** A Connect stream that has not said a valid hello by then is closed. */
  helloDeadlineMs: 10_000,
  maxLabels: 64,
  /** A label key is an optional DNS-subdomain prefix and "/", then a name. */
  labelKeyPrefixMaxLength: 253,
  labelKeyNameMaxLength: 63,
  labelValueMaxLength: 63,
  labelNamePattern: /^[A-Za-z0-9_.-]+$/,
  labelKeyPrefixPattern: /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/,
  versionMaxLength: 64,
  instanceIdMaxLength: 128,
} as const;

/** Why a label is not allowed, or undefined when it is; for the router's hello check and the agent's --label. */
export function labelProblem(key: string, value: string): string | undefined {
  const limits = agentHelloLimits;
  const slash = key.indexOf("/");
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > limits.labelKeyPrefixMaxLength || !limits.labelKeyPrefixPattern.test(prefix))) {
    return `a label key's prefix must be a lowercase DNS subdomain of at most ${limits.labelKeyPrefixMaxLength} characters`;
  }
  if (name.length > limits.labelKeyNameMaxLength || !limits.labelNamePattern.test(name)) {
    return `a label key's name must be 1 to ${limits.labelKeyNameMaxLength} characters of [A-Za-z0-9_.-]`;
  }
  if (value.length > limits.labelValueMaxLength || !limits.labelNamePattern.test(value)) {
    return `a label value must be 1 to ${limits.labelValueMaxLength} characters of [A-Za-z0-9_.-]`;
  }
  return undefined;
}
