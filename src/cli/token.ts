import { randomUUID } from "node:crypto";
import { checkMintTtl, grantClaimsOf, loadSigningKey, mintAgentToken, mintToken } from "../auth/index.js";
import { parseDuration, parseLabels } from "../config/index.js";
import { invalidArgument, quoteForMessage } from "../errors/index.js";
import { isHostname } from "../router/target.js";
import { defineCommand } from "./command.js";
import { jwtFlags, maxTokenLifetimeOf, tokenKeyConfigOf } from "./shared-flags.js";

/** Not a flag default: with --agent, a --scope given at all is an error, so its absence must show. */
const DEFAULT_CALLER_SCOPES = "docker:execute agent:read";

export const tokenCommand = defineCommand({
  usage:
    '--subject NAME --scope "docker:execute agent:read" --ttl 1h [--target GLOB|key:value]… [--container GLOB]… | --agent HOSTNAME [--label key=value]… --ttl 30d',
  flags: {
    subject: { type: "string", description: "the token's sub: who it is for (required for a caller's token)" },
    scope: { type: "string", description: `space-separated scopes of a caller's token (default: ${DEFAULT_CALLER_SCOPES})` },
    ttl: { type: "string", default: "1h", description: "how long the token is valid, at most --max-token-ttl" },
    // The token's grants: never from the environment, where MESHEXEC_TARGET may be set for exec.
    target: {
      type: "strings",
      fromEnv: false,
      description: "only exec on hosts whose hostname matches this glob (* and ?, e.g. web-*) or that carry this key:value label; without it, any host",
    },
    container: {
      type: "strings",
      fromEnv: false,
      description: "only exec in containers whose real name on the node matches this glob (* and ?, e.g. app-*); without it, any container",
    },
    // The agent's identity and grants: never from the environment, where MESHEXEC_LABEL may be set for `meshexec agent`.
    agent: {
      type: "string",
      fromEnv: false,
      description: "mint an agent's token instead: sub agent:HOSTNAME, the scope agent:connect only, and the one hostname it may register as",
    },
    label: {
      type: "strings",
      fromEnv: false,
      description: "with --agent: a key=value label the agent may carry; its hello may carry any of these, nothing else",
    },
    "jwt-private-key": { type: "string", description: "PEM private key file, for RS256/ES256 tokens (instead of --jwt-secret)" },
    ...jwtFlags,
  },
  async run(flags) {
    const ttlMs = parseDuration("ttl", flags.ttl);
    checkMintTtl(ttlMs, maxTokenLifetimeOf(flags));
    const config = { ...tokenKeyConfigOf(flags), privateKeyFile: flags["jwt-private-key"] };
    const jti = randomUUID();
    const common = { ttlMs, jti, issuer: config.issuer, audience: config.audience };
    let token: string;
    if (flags.agent !== undefined) {
      if (flags.subject !== undefined || flags.scope !== undefined || flags.target.length > 0 || flags.container.length > 0) {
        throw invalidArgument(
          "--agent takes no --subject, --scope, --target or --container",
          "an agent's token always has sub agent:HOSTNAME and only the scope agent:connect",
        );
      }
      if (!isHostname(flags.agent)) throw invalidArgument("invalid --agent", `${quoteForMessage(flags.agent)} is not an RFC 1123 hostname`);
      token = await mintAgentToken(loadSigningKey(config), { ...common, hostname: flags.agent, labels: parseLabels(flags.label) });
    } else {
      if (!flags.subject?.trim())
        throw invalidArgument("missing --subject", "say who the token is for with --subject NAME, or mint an agent's with --agent HOSTNAME");
      if (flags.label.length > 0) throw invalidArgument("--label needs --agent", "labels are granted to an agent's token only");
      // Checked before signing, as the router will read them: a bad glob fails here, not on every exec.
      const extraClaims = grantClaimsOf(flags.target, flags.container);
      const scopes = (flags.scope ?? DEFAULT_CALLER_SCOPES).split(/\s+/).filter(Boolean);
      token = await mintToken(loadSigningKey(config), { ...common, subject: flags.subject, scopes, extraClaims });
    }
    // On stderr, so that $(meshexec token …) is the token alone; the jti is what revokes it.
    process.stderr.write(`jti: ${jti} (revoke with: meshexec token revoke ${jti})\n`);
    process.stdout.write(`${token}\n`);
  },
});
