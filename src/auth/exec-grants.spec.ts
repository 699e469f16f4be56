import { expect } from "chai";
import { GrpcStatus, MeshError } from "../errors/index.js";
import { GRANT_CLAIMS, execGrantsOf, grantClaimsOf, grantLimits, targetGrantAllows } from "./exec-grants.js";

const targets = GRANT_CLAIMS.targets;
const containers = GRANT_CLAIMS.containers;

function expectMalformed(claims: Record<string, unknown>, details: RegExp) {
  let thrown: unknown;
  try {
    execGrantsOf(claims);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).to.be.instanceOf(MeshError);
  expect((thrown as MeshError).code).to.equal(GrpcStatus.UNAUTHENTICATED);
  expect((thrown as MeshError).error).to.equal("malformed token claim");
  expect((thrown as MeshError).details).to.match(details);
}

describe("execGrantsOf (a token's grant claims)", () => {
  it("leaves a token without the claims unrestricted", () => {
    expect(execGrantsOf({ sub: "alice", scope: "docker:execute" })).to.deep.equal({ targets: undefined, containers: undefined });
  });

  it("splits targets into hostname globs and key:value labels, and keeps container globs", () => {
    const grants = execGrantsOf({ [targets]: ["role:web", "db-*", "k8s.io_x-y:v1.2_3"], [containers]: ["app-*", "sidecar"] });
    expect(grants.targets?.hostnameGlobs).to.deep.equal(["db-*"]);
    expect(grants.targets?.labels).to.deep.equal([
      { key: "role", value: "web" },
      { key: "k8s.io_x-y", value: "v1.2_3" },
    ]);
    expect(grants.containers).to.deep.equal(["app-*", "sidecar"]);
  });

  it("restricts only what it names: targets without containers, containers without targets", () => {
    expect(execGrantsOf({ [targets]: ["web-*"] }).containers).to.equal(undefined);
    expect(execGrantsOf({ [containers]: ["app-*"] }).targets).to.equal(undefined);
  });

  const malformed: Array<[string, Record<string, unknown>, RegExp]> = [
    ["a string instead of an array", { [targets]: "web-*" }, /"meshexec_targets" claim must be an array of 1 to 32 strings/],
    ["an empty array, which would read as unrestricted", { [containers]: [] }, /"meshexec_containers" claim must be an array of 1 to 32/],
    ["a number inside", { [targets]: ["web-*", 7] }, /must be an array of 1 to 32 strings/],
    ["null", { [containers]: null }, /must be an array/],
    ["an object", { [targets]: { role: "web" } }, /must be an array/],
    ["too many patterns", { [targets]: Array.from({ length: grantLimits.maxPatterns + 1 }, (_, i) => `web-${i}`) }, /1 to 32 strings/],
    ["a regular expression", { [targets]: ["web-[0-9]+"] }, /meshexec_targets\[0\] "web-\[0-9\]\+" must be at most 253 characters: a hostname glob/],
    ["a label with two colons", { [targets]: ["role:web:x"] }, /meshexec_targets\[0\].*key:value/],
    ["a label with an empty side", { [targets]: ["role:"] }, /meshexec_targets\[0\]/],
    ["an empty target", { [targets]: [""] }, /meshexec_targets\[0\] "" must be/],
    ["a hostname glob past 253 characters", { [targets]: ["a".repeat(254)] }, /at most 253 characters/],
    ["a label past 253 characters", { [targets]: [`role:${"w".repeat(249)}`] }, /meshexec_targets\[0\] .* must be at most 253 characters/],
    ["a container glob with a slash", { [containers]: ["app-*", "/app"] }, /meshexec_containers\[1\] "\/app" must be a container name glob/],
    ["a container glob past 128 characters", { [containers]: ["a".repeat(129)] }, /at most 128 characters/],
  ];
  for (const [name, claims, details] of malformed) {
    it(`refuses ${name} as UNAUTHENTICATED naming the claim`, () => expectMalformed(claims, details));
  }

  it("cuts a long bad value short in the details", () => {
    expectMalformed({ [targets]: [`${"x".repeat(200)} y`] }, /x{80}…"/);
  });
});

describe("targetGrantAllows", () => {
  const grant = execGrantsOf({ [targets]: ["role:web", "db-?"] }).targets!;
  it("allows a host whose hostname matches a glob, or that carries a granted label", () => {
    expect(targetGrantAllows(grant, "db-1", {})).to.equal(true);
    expect(targetGrantAllows(grant, "cache-1", { role: "web", zone: "east" })).to.equal(true);
  });
  it("refuses a host that does neither", () => {
    expect(targetGrantAllows(grant, "db-10", {})).to.equal(false);
    expect(targetGrantAllows(grant, "cache-1", { role: "db" })).to.equal(false);
    expect(targetGrantAllows(grant, "cache-1", { web: "role" })).to.equal(false);
  });
  it("does not read a label from the object's prototype", () => {
    const inherited = execGrantsOf({ [targets]: ["constructor:x"] }).targets!;
    expect(targetGrantAllows(inherited, "h", {})).to.equal(false);
  });
});

describe("grantClaimsOf (meshexec token --target/--container)", () => {
  it("makes no claim for a flag not given", () => {
    expect(grantClaimsOf([], [])).to.deep.equal({});
    expect(grantClaimsOf(["role:web"], [])).to.deep.equal({ [targets]: ["role:web"] });
  });
  it("makes claims the router reads back as given", () => {
    const claims = grantClaimsOf(["role:web", "db-*"], ["app-*"]);
    expect(claims).to.deep.equal({ [targets]: ["role:web", "db-*"], [containers]: ["app-*"] });
    expect(execGrantsOf(claims).containers).to.deep.equal(["app-*"]);
  });
  it("refuses a bad pattern as INVALID_ARGUMENT before anything is signed", () => {
    expect(() => grantClaimsOf(["web-(1|2)"], []))
      .to.throw(MeshError)
      .with.property("code", GrpcStatus.INVALID_ARGUMENT);
  });
});
