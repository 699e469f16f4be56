import { randomUUID } from "node:crypto";
import { checkMintTtl, grantClaimsOf, loadSigningKey, mintToken } from "../auth/index.js";
import { parseDuration } from "../config/index.js";
import { invalidArgument } from "../errors/index.js";
import { defineCommand } from "./command.js";
import { jwtFlags, maxTokenLifetimeOf, tokenKeyConfigOf } from "./shared-flags.js";

export const tokenCommand = defineCommand({
  usage: '--subject NAME --scope "docker:execute agent:read" --ttl 1h [--target GLOB|key:value]… [--container GLOB]…',
  flags: {
    subject: { type: "string", description: "the token's sub: who it is for (required)" },
    scope: { type: "string", default: "docker:execute agent:read", description: "space-separated scopes" },
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
    "jwt-private-key": { type: "string", description: "PEM private key file, for RS256/ES256 tokens (instead of --jwt-secret)" },
    ...jwtFlags,
  },
  async run(flags) {
    if (!flags.subject?.trim()) throw invalidArgument("missing --subject", "say who the token is for with --subject NAME");
    const ttlMs = parseDuration("ttl", flags.ttl);
    checkMintTtl(ttlMs, maxTokenLifetimeOf(flags));
    const config = { ...tokenKeyConfigOf(flags), privateKeyFile: flags["jwt-private-key"] };
    // Checked before signing, as the router will read them: a bad glob fails here, not on every exec.
    const extraClaims = grantClaimsOf(flags.target, flags.container);
    const jti = randomUUID();
    const token = await mintToken(loadSigningKey(config), {
      subject: flags.subject,
      scopes: flags.scope.split(/\s+/).filter(Boolean),
      ttlMs,
      jti,
      issuer: config.issuer,
      audience: config.audience,
      extraClaims,
    });
    // On stderr, so that $(meshexec token …) is the token alone; the jti is what revokes it.
    process.stderr.write(`jti: ${jti} (revoke with: meshexec token revoke ${jti})\n`);
    process.stdout.write(`${token}\n`);
  },
});
