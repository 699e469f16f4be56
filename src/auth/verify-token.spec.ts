import { expect } from "chai";
import { mintToken } from "./mint-token.js";
import { loadSigningKey, loadVerificationKey } from "./token-keys.js";
import { createTokenVerifier } from "./verify-token.js";

describe("createTokenVerifier's cache of verified tokens", () => {
  const secret = "unit-test-secret";
  let clockMs = 0;
  beforeEach(() => (clockMs = Date.now()));
  const verifier = createTokenVerifier(loadVerificationKey({ secret }), { now: () => clockMs });
  const mint = (scopes: string[], ttlMs: number) => mintToken(loadSigningKey({ secret }), { subject: "alice", scopes, ttlMs });

  it("still checks the scope on every call of a cached token", async () => {
    const token = await mint(["agent:read"], 60_000);
    expect((await verifier.verify(`Bearer ${token}`, "agent:read")).subject).to.equal("alice");
    await verifier.verify(`Bearer ${token}`, "docker:execute").then(
      () => expect.fail("a cached token gained a scope"),
      (err) => expect(err.code).to.equal(7),
    );
  });

  it("refuses a cached token once its exp (plus the 30 s skew) has passed", async () => {
    const token = await mint(["agent:read"], 5_000);
    await verifier.verify(`Bearer ${token}`, "agent:read");
    clockMs += 5_000 + 29_000;
    await verifier.verify(`Bearer ${token}`, "agent:read");
    clockMs += 2_000;
    await verifier.verify(`Bearer ${token}`, "agent:read").then(
      () => expect.fail("an expired token was accepted from the cache"),
      (err) => expect(err.details).to.match(/expired/),
    );
  });

  it("never caches a token that failed", async () => {
    const token = await mint(["agent:read"], 60_000);
    // A character inside the signature: the last one may only carry padding bits.
    const at = token.lastIndexOf(".") + 5;
    const forged = token.slice(0, at) + (token[at] === "A" ? "B" : "A") + token.slice(at + 1);
    for (let i = 0; i < 2; i++) {
      await verifier.verify(`Bearer ${forged}`, "agent:read").then(
        () => expect.fail("a forged token was accepted"),
        (err) => expect(err.code).to.equal(16),
      );
    }
  });
});
