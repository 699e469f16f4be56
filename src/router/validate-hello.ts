import type { AgentHello } from "../gen/meshexec/v1/agent.js";
import { agentHelloLimits, labelProblem } from "../contract/index.js";
import { invalidArgument, quoteForMessage } from "../errors/index.js";
import type { AgentIdentity } from "./agent-session.js";
import { isHostname } from "./target.js";

/**
 * Checks a hello against the documented bounds before anything else looks at it. Every value
 * an error quotes is cut short: a refused hello is never logged in full.
 */
export function validateHello(hello: AgentHello): AgentIdentity {
  const limits = agentHelloLimits;
  if (!isHostname(hello.hostname)) {
    throw invalidArgument("invalid hostname", `agent hostname ${quoteForMessage(hello.hostname)} is not an RFC 1123 hostname`);
  }
  const labels = Object.entries(hello.labels);
  if (labels.length > limits.maxLabels) {
    throw invalidArgument("too many labels", `a hello carries at most ${limits.maxLabels} labels, got ${labels.length}`);
  }
  for (const [key, value] of labels) {
    const problem = labelProblem(key, value);
    if (problem) throw invalidArgument("invalid label", `label ${quoteForMessage(key)}=${quoteForMessage(value)}: ${problem}`);
  }
  if (hello.version.length > limits.versionMaxLength) {
    throw invalidArgument("invalid version", `version ${quoteForMessage(hello.version)} is longer than ${limits.versionMaxLength} characters`);
  }
  if (hello.instanceId.length > limits.instanceIdMaxLength) {
    throw invalidArgument("invalid instance id", `instance_id is longer than ${limits.instanceIdMaxLength} characters`);
  }
  return { hostname: hello.hostname, labels: hello.labels, version: hello.version, instanceId: hello.instanceId };
}
