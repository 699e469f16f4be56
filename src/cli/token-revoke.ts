import { GatewayClient, gatewayFlags } from "./client/gateway-client.js";
import { defineCommand } from "./command.js";
import { ExitCode, exitCodesHelp } from "./exit-codes.js";
import { jsonFlag, writeRaw } from "./output/raw-json.js";
import { invalidArgument } from "../errors/mesh-error.js";
import type { RevokedToken } from "./client/api-types.js";

export const tokenRevokeCommand = defineCommand({
  usage: "JTI [--json]",
  epilog: exitCodesHelp({ [ExitCode.ok]: "the token is revoked (or already was)" }),
  flags: { ...jsonFlag, ...gatewayFlags },
  async run(flags, positionals) {
    if (positionals.length !== 1) throw invalidArgument("missing JTI", "name the one token to revoke: meshexec token revoke JTI");
    const [jti] = positionals;
    const client = new GatewayClient(flags.gateway, flags.token);
    const raw = await client.readText(await client.send("POST", `/tokens/${encodeURIComponent(jti)}/revoke`));
    if (flags.json) return writeRaw(raw);
    const { revoked_at } = client.parse<RevokedToken>(raw);
    process.stdout.write(`token ${jti} revoked at ${revoked_at}\n`);
  },
});
