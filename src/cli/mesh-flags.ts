import { hostname as osHostname } from "node:os";
import type { FlagValues } from "../config/index.js";
import { invalidArgument, quoteForMessage } from "../errors/index.js";
import type { NatsOptions } from "../router/index.js";
import { redactUrl } from "../router/mesh/connect-nats.js";

const ROUTER_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** The machine's hostname as a router name: other characters (a domain's dots) become "-". */
export const DEFAULT_ROUTER_NAME =
  osHostname()
    .replace(/[^A-Za-z0-9_-]/g, "-")
    .slice(0, 64) || "router";

/** How a router joins a mesh of routers (README "Running several routers"). */
export const meshFlags = {
  name: {
    type: "string",
    default: DEFAULT_ROUTER_NAME,
    description: "this router's name, unique in the mesh: [A-Za-z0-9_-], 1 to 64 characters (default: the machine's hostname, other characters as -)",
  },
  nats: {
    type: "string",
    description: "join a mesh of routers: NATS server URLs, comma separated (nats://host:4222,…); JetStream must be enabled. Unset: a lone router",
  },
  "nats-creds": { type: "string", description: "a NATS credentials file (user JWT and nkey seed)" },
  "nats-token": { type: "string", description: "a NATS authentication token (never logged)" },
  "nats-user": { type: "string", description: "a NATS user name, with --nats-password" },
  "nats-password": { type: "string", description: "the NATS user's password (never logged)" },
  "nats-tls-ca": { type: "string", description: "a PEM file of the CA that signed the NATS servers' certificates (for tls:// URLs)" },
} as const;

export function routerNameOf(flags: Pick<FlagValues<typeof meshFlags>, "name">): string {
  if (!ROUTER_NAME.test(flags.name)) {
    throw invalidArgument("invalid --name", `${quoteForMessage(flags.name)} must be 1 to 64 of A-Z, a-z, 0-9, _ and -: it names the router's subject on NATS`);
  }
  return flags.name;
}

/** What --nats and its credentials say; undefined for a lone router. Checked before anything connects. */
export function natsOptionsOf(flags: FlagValues<typeof meshFlags>): NatsOptions | undefined {
  const credentials = ["nats-creds", "nats-token", "nats-user", "nats-password", "nats-tls-ca"] as const;
  if (!flags.nats) {
    const stray = credentials.find((flag) => flags[flag]);
    if (stray) throw invalidArgument(`--${stray} without --nats`, `--${stray} configures the mesh's NATS connection; set --nats to the NATS servers too`);
    return undefined;
  }
  const servers = flags.nats
    .split(",")
    .map((server) => server.trim())
    .filter(Boolean);
  const bad = servers.find((server) => !/^(nats|tls):\/\/[^\s/]+(:\d+)?\/?$/.test(server) && !/^[^\s:/]+:\d+$/.test(server));
  if (servers.length === 0 || bad !== undefined) {
    throw invalidArgument(
      "invalid --nats",
      `expected nats://HOST:PORT (or tls://, or HOST:PORT), comma separated; got ${quoteForMessage(redactUrl(bad ?? flags.nats))}`,
    );
  }
  if (Boolean(flags["nats-user"]) !== Boolean(flags["nats-password"])) {
    throw invalidArgument("incomplete NATS user", "--nats-user and --nats-password go together");
  }
  const ways = [flags["nats-creds"], flags["nats-token"], flags["nats-user"]].filter(Boolean).length;
  if (ways > 1) throw invalidArgument("conflicting NATS credentials", "give one of --nats-creds, --nats-token, or --nats-user with --nats-password");
  return {
    servers,
    credsFile: flags["nats-creds"],
    token: flags["nats-token"],
    user: flags["nats-user"],
    password: flags["nats-password"],
    tlsCaFile: flags["nats-tls-ca"],
  };
}
