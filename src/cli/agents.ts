import { invalidArgument } from "../errors/index.js";
import type { AgentInfo, AgentRevocation } from "./client/api-types.js";
import { GatewayClient, gatewayFlags } from "./client/gateway-client.js";
import { defineCommand } from "./command.js";
import { EXIT_CODES_HELP } from "./exit-codes.js";
import { jsonFlag, writeRaw } from "./output/raw-json.js";
import { renderTable } from "./output/table.js";
import { formatInstant } from "./output/time.js";

export const agentsCommand = defineCommand({
  summary: "Lists the agents connected to the router (hostname, labels, connected since, execs in flight), or revokes one.",
  usage: "[--json] | revoke HOSTNAME [--json]",
  epilog: `revoke HOSTNAME ends the agent's session (its execs in flight fail) and refuses every credential for that hostname issued until now (needs the scope agent:admin); the agent comes back only with a newly minted token or certificate.\n\n${EXIT_CODES_HELP}`,
  flags: { ...jsonFlag, ...gatewayFlags },
  async run(flags, positionals) {
    const gateway = new GatewayClient(flags.gateway, flags.token);
    if (positionals[0] === "revoke") {
      if (positionals.length !== 2) throw invalidArgument("expected one hostname", `usage: meshexec agents revoke HOSTNAME, got ${positionals.length - 1} arguments`);
      const raw = await gateway.readText(await gateway.send("POST", `/agents/${encodeURIComponent(positionals[1])}/revoke`));
      if (flags.json) return writeRaw(raw);
      const revoked = gateway.parse<AgentRevocation>(raw);
      const session = revoked.session_ended ? "its session was ended" : "it was not connected";
      process.stdout.write(`revoked ${revoked.hostname} at ${formatInstant(revoked.revoked_at)}: ${session}; credentials issued until then are refused\n`);
      return;
    }
    if (positionals.length > 0) throw invalidArgument("unexpected arguments", `usage: meshexec agents [--json] | agents revoke HOSTNAME, got "${positionals[0]}"`);
    const { raw, value } = await gateway.getJson<{ agents: AgentInfo[] }>("/agents");
    if (flags.json) return writeRaw(raw);
    const rows = [...value.agents]
      .sort((a, b) => a.hostname.localeCompare(b.hostname))
      .map((agent) => [agent.hostname, formatLabels(agent.labels), formatInstant(agent.connected_since), String(agent.in_flight)]);
    process.stdout.write(renderTable(["HOSTNAME", "LABELS", "CONNECTED SINCE", "IN FLIGHT"], rows));
  },
});

/** `role=web,zone=east`, as --label takes them; labels hold neither commas nor spaces. */
function formatLabels(labels: Record<string, string>): string {
  const pairs = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  return pairs.length ? pairs.map(([key, value]) => `${key}=${value}`).join(",") : "-";
}
