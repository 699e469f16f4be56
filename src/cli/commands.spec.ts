import { expect } from "chai";
import { envNameOf, type FlagSpec } from "../config/index.js";
import { commands } from "./commands.js";

describe("the commands' environment variables", () => {
  it("each MESHEXEC_* a client command reads means the same flag wherever it is read", async () => {
    const loaded = await Promise.all(
      Object.entries(commands).map(async ([name, entry]) => ({ name, flags: (await entry.load()).flags as Record<string, FlagSpec> })),
    );
    const readers = new Map<string, { name: string; spec: FlagSpec }[]>();
    for (const { name, flags } of loaded) {
      for (const [flag, spec] of Object.entries(flags)) {
        if (spec.fromEnv === false) continue;
        readers.set(envNameOf(flag), [...(readers.get(envNameOf(flag)) ?? []), { name, spec }]);
      }
    }
    // Imported as the commands import it: a static import under tsx is another module instance.
    const { gatewayFlags } = await import("./client/gateway-client.js");
    const clients = loaded.filter(({ flags }) => flags.gateway === gatewayFlags.gateway);
    expect(clients.map((c) => c.name)).to.include.members(["exec", "jobs", "audit"]);
    // A variable exported for one of them (MESHEXEC_TARGET for exec) must not filter another's
    // listing or restrict a minted token: one spec, shared by reference, or not read at all.
    const mixed = clients.flatMap(({ flags }) =>
      Object.entries(flags)
        .filter(([, spec]) => spec.fromEnv !== false)
        .map(([flag, spec]) => ({
          variable: envNameOf(flag),
          others: readers
            .get(envNameOf(flag))!
            .filter((r) => r.spec !== spec)
            .map((r) => r.name),
        }))
        .filter(({ others }) => others.length > 0),
    );
    expect(mixed).to.deep.equal([]);
  });
});
