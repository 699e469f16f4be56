import { invalidArgument } from "../errors/mesh-error.js";
import type { AgentRevocation } from "./client/api-types.js";
import { GatewayClient, gatewayFlags } from "./client/gateway-client.js";
import { defineCommand } from "./command.js";
import { ExitCode, exitCodesHelp } from "./exit-codes.js";
import { jsonFlag, writeRaw } from "./output/raw-json.js";
import { formatInstant } from "./output/time.js";

export const agentsRevokeCommand = defineCommand({
  usage: "HOSTNAME [--json]",
  epilog: `Ends the agent's session (its execs in flight fail) and refuses every credential for that hostname issued until now; the agent comes back only with a newly minted token or certificate.\n\n${exitCodesHelp({ [ExitCode.ok]: "the hostname is revoked, whether or not it was connected" })}`,
  flags: { ...jsonFlag, ...gatewayFlags },
  async run(flags, positionals) {
    if (positionals.length !== 1) throw invalidArgument("expected one hostname", `usage: meshexec agents revoke HOSTNAME, got ${positionals.length} arguments`);
    const gateway = new GatewayClient(flags.gateway, flags.token);
    const raw = await gateway.readText(await gateway.send("POST", `/agents/${encodeURIComponent(positionals[0])}/revoke`));
    if (flags.json) return writeRaw(raw);
    const revoked = gateway.parse<AgentRevocation>(raw);
    const session = revoked.session_ended ? "its session was ended" : "it was not connected";
    process.stdout.write(`revoked ${revoked.hostname} at ${formatInstant(revoked.revoked_at)}: ${session}; credentials issued until then are refused\n`);
  },
});
