import { invalidArgument } from "../errors/mesh-error.js";
import { quoteForMessage } from "../errors/quote-for-message.js";
import type { AgentInfo } from "./client/api-types.js";
import { GatewayClient, gatewayFlags } from "./client/gateway-client.js";
import { defineCommand } from "./command.js";
import { ExitCode, exitCodesHelp } from "./exit-codes.js";
import { jsonFlag, writeRaw } from "./output/raw-json.js";
import { renderTable } from "./output/table.js";
import { formatInstant } from "./output/time.js";

export const agentsCommand = defineCommand({
  usage: "[--json]",
  epilog: exitCodesHelp({ [ExitCode.ok]: "the agents were listed, even none" }),
  flags: { ...jsonFlag, ...gatewayFlags },
  async run(flags, positionals) {
    if (positionals.length > 0) {
      throw invalidArgument("unexpected arguments", `usage: meshexec agents [--json] | agents revoke HOSTNAME, got ${quoteForMessage(positionals[0])}`);
    }
    const { raw, value } = await new GatewayClient(flags.gateway, flags.token).getJson<{ agents: AgentInfo[] }>("/agents");
    if (flags.json) return writeRaw(raw);
    const rows = [...value.agents]
      .sort((a, b) => a.hostname.localeCompare(b.hostname))
      .map((agent) => [agent.hostname, formatLabels(agent.labels), formatInstant(agent.connected_since), String(agent.in_flight), agent.router || "-"]);
    process.stdout.write(renderTable(["HOSTNAME", "LABELS", "CONNECTED SINCE", "IN FLIGHT", "ROUTER"], rows));
  },
});

/** `role=web,zone=east`, as --label takes them; labels hold neither commas nor spaces. */
function formatLabels(labels: Record<string, string>): string {
  const pairs = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  return pairs.length ? pairs.map(([key, value]) => `${key}=${value}`).join(",") : "-";
}
