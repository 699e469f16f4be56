import { expect } from "chai";
import { MeshError } from "../errors/index.js";
import { MemoryAgentRevocations } from "../store/index.js";
import { authorizeHello, certificateCredentialOf, type AgentCredential } from "./agent-authentication.js";

describe("agent authentication", () => {
  const validFrom = "Nov 30 03:17:12 2026 GMT";

  it("reads a certificate's DNS SANs as its hostnames and its urn:meshexec:label URI SANs as its labels, nothing else", () => {
    const credential = certificateCredentialOf({
      subjectaltname:
        "DNS:web-1, DNS:web-1.example.com, URI:urn:meshexec:label:role=web, URI:https://example.com/x, IP Address:10.0.0.1, URI:urn:meshexec:label:broken",
      valid_from: validFrom,
    });
    expect(credential).to.deep.equal({
      kind: "certificate",
      hostnames: ["web-1", "web-1.example.com"],
      labels: { role: "web" },
      issuedAt: new Date(Date.parse(validFrom)),
    });
  });

  it("refuses a certificate without a DNS SAN", () => {
    expect(() => certificateCredentialOf({ subjectaltname: "URI:urn:meshexec:label:role=web", valid_from: validFrom })).to.throw(
      MeshError,
      /names no hostname/,
    );
    expect(() => certificateCredentialOf({ subjectaltname: undefined as unknown as string, valid_from: validFrom })).to.throw(MeshError, /names no hostname/);
  });

  describe("authorizeHello", () => {
    const token: AgentCredential = { kind: "token", hostnames: ["web-1"], labels: { role: "web", zone: "east" }, issuedAt: new Date(10_000) };
    const revocations = new MemoryAgentRevocations();
    const refusal = async (credential: AgentCredential, hello: { hostname: string; labels: Record<string, string> }) => {
      try {
        await authorizeHello(credential, hello, revocations);
      } catch (err) {
        return err as MeshError & { refusal: { asked: string; allowed: string } };
      }
      return undefined;
    };

    it("allows the credential's hostname with any subset of its labels", async () => {
      expect(await refusal(token, { hostname: "web-1", labels: { role: "web", zone: "east" } })).to.equal(undefined);
      expect(await refusal(token, { hostname: "web-1", labels: { zone: "east" } })).to.equal(undefined);
      expect(await refusal(token, { hostname: "web-1", labels: {} })).to.equal(undefined);
    });

    it("refuses another hostname, another label or another value, naming what was asked and allowed", async () => {
      expect(await refusal(token, { hostname: "web-2", labels: {} })).to.deep.include({ code: 7, refusal: { asked: "web-2", allowed: "web-1" } });
      expect((await refusal(token, { hostname: "web-1", labels: { role: "db" } }))?.refusal).to.deep.equal({ asked: "role=db", allowed: "role=web,zone=east" });
      expect((await refusal(token, { hostname: "web-1", labels: { tier: "gold" } }))?.details).to.include('does not allow the label "tier=gold"');
    });

    it("allows anything for the join token, until the hostname is revoked", async () => {
      const joinToken: AgentCredential = { kind: "join token", hostnames: "any", labels: "any" };
      expect(await refusal(joinToken, { hostname: "join-1", labels: { any: "thing" } })).to.equal(undefined);
      await revocations.revoke("join-1", new Date(5_000));
      expect((await refusal(joinToken, { hostname: "join-1", labels: {} }))?.error).to.equal("agent revoked");
    });

    it("refuses credentials issued at or before the hostname's revocation, not those issued after", async () => {
      await revocations.revoke("web-1", new Date(10_000));
      expect((await refusal(token, { hostname: "web-1", labels: {} }))?.error).to.equal("agent revoked");
      expect(await refusal({ ...token, issuedAt: new Date(11_000) }, { hostname: "web-1", labels: {} })).to.equal(undefined);
    });
  });
});
