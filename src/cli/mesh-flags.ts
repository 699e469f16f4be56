import { hostname as osHostname } from "node:os";
import type { FlagValues } from "../config/index.js";
import { invalidArgument, quoteForMessage } from "../errors/index.js";

const ROUTER_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** The machine's hostname as a router name: other characters (a domain's dots) become "-". */
export const DEFAULT_ROUTER_NAME = osHostname().replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 64) || "router";

/** How a router joins a mesh of routers (README "Running several routers"). */
export const meshFlags = {
  name: {
    type: "string",
    default: DEFAULT_ROUTER_NAME,
    description: "this router's name, unique in the mesh: [A-Za-z0-9_-], 1 to 64 characters (default: the machine's hostname, other characters as -)",
  },
} as const;

export function routerNameOf(flags: Pick<FlagValues<typeof meshFlags>, "name">): string {
  if (!ROUTER_NAME.test(flags.name)) {
    throw invalidArgument("invalid --name", `${quoteForMessage(flags.name)} must be 1 to 64 of A-Z, a-z, 0-9, _ and -: it names the router's subject on NATS`);
  }
  return flags.name;
}
