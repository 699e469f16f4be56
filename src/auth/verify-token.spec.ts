import { expect } from "chai";
import { SignJWT, decodeJwt, type JWTPayload } from "jose";
import { GrpcStatus } from "../errors/index.js";
import { MemoryTokenRevocations } from "../store/index.js";
import { mintToken } from "./mint-token.js";
import { loadSigningKey, loadVerificationKey } from "./token-keys.js";
import { checkMintTtl } from "./token-lifetime.js";
import { createTokenVerifier } from "./verify-token.js";

const secret = "unit-test-secret-that-is-32-bytes-long";
const DAY_MS = 86_400_000;

/** Resolves with the error verify() refused with, or fails the test when it was accepted. */
async function refusal(promise: Promise<unknown>, what: string): Promise<{ code: number; details: string }> {
  return promise.then(
    () => expect.fail(`${what} was accepted`),
    (err) => err,
  );
}

describe("createTokenVerifier", () => {
  let clockMs = 0;
  let revocations: MemoryTokenRevocations;
  beforeEach(() => {
    clockMs = Date.now();
    revocations = new MemoryTokenRevocations();
  });
  const verifier = () => createTokenVerifier(loadVerificationKey({ secret }), { now: () => clockMs, maxLifetimeMs: 30 * DAY_MS, revocations });
  const mint = (scopes: string[], ttlMs: number) => mintToken(loadSigningKey({ secret }), { subject: "alice", scopes, ttlMs });
  /** Signs claims as given, nothing added, so each case controls sub, iat, nbf and exp. */
  const sign = (claims: JWTPayload) => new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(secret));
  const nowSeconds = () => Math.floor(clockMs / 1000);

  describe("its cache of verified tokens", () => {
    it("still checks the scope on every call of a cached token", async () => {
      const check = verifier();
      const token = await mint(["agent:read"], 60_000);
      expect((await check.verify(`Bearer ${token}`, "agent:read")).subject).to.equal("alice");
      const err = await refusal(check.verify(`Bearer ${token}`, "docker:execute"), "a cached token with another scope");
      expect(err.code).to.equal(GrpcStatus.PERMISSION_DENIED);
    });

    it("refuses a cached token once its exp (plus the 30 s skew) has passed", async () => {
      const check = verifier();
      const token = await mint(["agent:read"], 5_000);
      await check.verify(`Bearer ${token}`, "agent:read");
      clockMs += 5_000 + 29_000;
      await check.verify(`Bearer ${token}`, "agent:read");
      clockMs += 2_000;
      expect((await refusal(check.verify(`Bearer ${token}`, "agent:read"), "an expired token")).details).to.match(/expired/);
    });

    it("never caches a token that failed", async () => {
      const check = verifier();
      const token = await mint(["agent:read"], 60_000);
      // A character inside the signature: the last one may only carry padding bits.
      const at = token.lastIndexOf(".") + 5;
      const forged = token.slice(0, at) + (token[at] === "A" ? "B" : "A") + token.slice(at + 1);
      for (let i = 0; i < 2; i++)
        expect((await refusal(check.verify(`Bearer ${forged}`, "agent:read"), "a forged token")).code).to.equal(GrpcStatus.UNAUTHENTICATED);
    });

    it("refuses a cached token on its next call once its jti is revoked", async () => {
      const check = verifier();
      const token = await mint(["agent:read"], 60_000);
      await check.verify(`Bearer ${token}`, "agent:read");
      await check.verify(`Bearer ${token}`, "agent:read");
      await revocations.revoke(decodeJwt(token).jti!, new Date(clockMs));
      const err = await refusal(check.verify(`Bearer ${token}`, "agent:read"), "a revoked token");
      expect(err).to.include({ code: GrpcStatus.UNAUTHENTICATED, details: "the token has been revoked" });
    });

    it("refuses a revoked token it never saw, and keeps accepting the others", async () => {
      const check = verifier();
      const [revoked, other] = await Promise.all([mint(["agent:read"], 60_000), mint(["agent:read"], 60_000)]);
      await revocations.revoke(decodeJwt(revoked).jti!, new Date(clockMs));
      expect((await refusal(check.verify(`Bearer ${revoked}`, "agent:read"), "a revoked token")).details).to.equal("the token has been revoked");
      expect((await check.verify(`Bearer ${other}`, "agent:read")).subject).to.equal("alice");
    });
  });

  describe("claims every token must have", () => {
    it("refuses a token without sub, or with an empty one, naming the claim", async () => {
      for (const sub of [undefined, "", "  "]) {
        const token = await sign({ sub, scope: "agent:read", iat: nowSeconds(), exp: nowSeconds() + 60 });
        const err = await refusal(verifier().verify(`Bearer ${token}`, "agent:read"), `sub ${JSON.stringify(sub)}`);
        expect(err.code).to.equal(GrpcStatus.UNAUTHENTICATED);
        expect(err.details).to.include('"sub"');
      }
    });

    it("refuses a token that lives longer than the maximum, and accepts one that lives exactly as long", async () => {
      const iat = nowSeconds();
      const tenYears = await sign({ sub: "alice", scope: "agent:read", iat, exp: iat + 3650 * 86_400 });
      const err = await refusal(verifier().verify(`Bearer ${tenYears}`, "agent:read"), "a 10-year token");
      expect(err.code).to.equal(GrpcStatus.UNAUTHENTICATED);
      expect(err.details).to.equal("the token lives 3650 d, longer than the 30 d the mesh allows (--max-token-ttl)");
      const thirtyDays = await sign({ sub: "alice", scope: "agent:read", iat, exp: iat + 30 * 86_400 });
      expect((await verifier().verify(`Bearer ${thirtyDays}`, "agent:read")).subject).to.equal("alice");
    });

    it("measures from nbf when there is no iat, and refuses a token with neither", async () => {
      const nbf = nowSeconds();
      const fromNbf = await sign({ sub: "alice", scope: "agent:read", nbf, exp: nbf + 31 * 86_400 });
      expect((await refusal(verifier().verify(`Bearer ${fromNbf}`, "agent:read"), "31 days from nbf")).details).to.include("31 d");
      const neither = await sign({ sub: "alice", scope: "agent:read", exp: nowSeconds() + 60 });
      expect((await refusal(verifier().verify(`Bearer ${neither}`, "agent:read"), "no iat nor nbf")).details).to.include('"iat"');
    });

    it("refuses a jti that could not be revoked through the API: not a string, empty, too long", async () => {
      for (const jti of [7, "", "x".repeat(129), "naïve"]) {
        const token = await sign({ sub: "alice", scope: "agent:read", iat: nowSeconds(), exp: nowSeconds() + 60, jti: jti as string });
        expect((await refusal(verifier().verify(`Bearer ${token}`, "agent:read"), `jti ${JSON.stringify(jti)}`)).details).to.include('"jti"');
      }
    });

    it("counts what is left of a token's life, so an iat in the future gains nothing", async () => {
      const exp = nowSeconds() + 60 * 86_400;
      const token = await sign({ sub: "alice", scope: "agent:read", iat: exp - 60, exp });
      expect((await refusal(verifier().verify(`Bearer ${token}`, "agent:read"), "a future iat")).details).to.include("--max-token-ttl");
    });
  });
});

describe("token keys and minting", () => {
  it("refuses an HS256 secret shorter than 32 bytes, to verify and to mint", () => {
    for (const load of [loadVerificationKey, loadSigningKey]) {
      expect(() => load({ secret: "x".repeat(31) })).to.throw(/at least 32 bytes, got 31/);
      expect(() => load({ secret: "x".repeat(32) })).to.not.throw();
    }
    // Bytes, not characters: 11 three-byte characters are 33 bytes.
    expect(() => loadVerificationKey({ secret: "€".repeat(11) })).to.not.throw();
  });

  it("gives every minted token its own jti", async () => {
    const key = loadSigningKey({ secret });
    const jtis = await Promise.all([1, 2, 3].map(async () => decodeJwt(await mintToken(key, { subject: "a", scopes: [], ttlMs: 60_000 })).jti));
    jtis.forEach((jti) => expect(jti).to.match(/^[0-9a-f-]{36}$/));
    expect(new Set(jtis).size).to.equal(3);
  });

  it("refuses to mint a token that would live longer than the maximum, or not at all", () => {
    expect(() => checkMintTtl(31 * DAY_MS, 30 * DAY_MS)).to.throw(/at most 30 d \(--max-token-ttl\), got 31 d/);
    expect(() => checkMintTtl(0, 30 * DAY_MS)).to.throw(/longer than 0 s/);
    expect(() => checkMintTtl(30 * DAY_MS, 30 * DAY_MS)).to.not.throw();
  });
});
