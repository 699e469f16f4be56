import { expect } from "chai";
import { formatDuration, parseDuration, parseHostPort, readFlags } from "./flags.js";

const specs = {
  listen: { type: "string", default: "127.0.0.1:1", description: "" },
  label: { type: "strings", description: "" },
  json: { type: "boolean", description: "" },
  token: { type: "string", description: "" },
} as const;

describe("readFlags", () => {
  it("prefers argv, then MESHEXEC_* environment, then defaults", () => {
    const { values } = readFlags(specs, ["--label", "a=1", "--label", "b=2"], { MESHEXEC_LISTEN: "0.0.0.0:9", MESHEXEC_TOKEN: "t" });
    expect(values).to.deep.equal({ listen: "0.0.0.0:9", label: ["a=1", "b=2"], json: false, token: "t" });
    expect(readFlags(specs, ["--listen", "h:2"], { MESHEXEC_LISTEN: "0.0.0.0:9" }).values.listen).to.equal("h:2");
    expect(readFlags(specs, [], {}).values.listen).to.equal("127.0.0.1:1");
  });
  it("splits a repeatable flag given in the environment on commas", () => {
    expect(readFlags(specs, [], { MESHEXEC_LABEL: "a=1, b=2" }).values.label).to.deep.equal(["a=1", "b=2"]);
  });
  it("splits on newlines only, keeping commas and spaces, where the flag says so", () => {
    const env = { env: { type: "strings", description: "", envSeparator: "\n" } } as const;
    expect(readFlags(env, [], { MESHEXEC_ENV: "A=1,2\nB= x y " }).values.env).to.deep.equal(["A=1,2", "B= x y "]);
  });
  it("never reads a flag marked fromEnv: false from the environment", () => {
    const filters = { status: { type: "string", fromEnv: false, description: "" }, tag: { type: "strings", fromEnv: false, description: "" } } as const;
    expect(readFlags(filters, [], { MESHEXEC_STATUS: "failed", MESHEXEC_TAG: "a" }).values).to.deep.equal({ status: undefined, tag: [] });
    expect(readFlags(filters, ["--status", "running"], {}).values.status).to.equal("running");
  });
  it("rejects an unknown flag", () => {
    expect(() => readFlags(specs, ["--nope"], {})).to.throw(/nope/);
  });
});

describe("parseHostPort and parseDuration", () => {
  it("parse what operators type", () => {
    expect(parseHostPort("listen", "127.0.0.1:0")).to.deep.equal({ host: "127.0.0.1", port: 0 });
    expect(parseHostPort("listen", "[::1]:80")).to.deep.equal({ host: "::1", port: 80 });
    expect(() => parseHostPort("listen", "nope")).to.throw(/HOST:PORT/);
    expect(parseDuration("ttl", "1h")).to.equal(3_600_000);
    expect(parseDuration("ttl", "30")).to.equal(30_000);
    expect(() => parseDuration("ttl", "soon")).to.throw(/duration/);
  });
});

describe("renamed flags", () => {
  const renamed = {
    "grpc-listen": { type: "string", default: "127.0.0.1:1", description: "" },
    listen: { type: "string", renamedTo: "grpc-listen", description: "" },
  } as const;
  it("take the old name's value, from argv or the environment, with a warning", () => {
    const fromArgv = readFlags(renamed, ["--listen", "h:2"], {});
    expect(fromArgv.values["grpc-listen"]).to.equal("h:2");
    expect(fromArgv.warnings).to.deep.equal(["--listen (MESHEXEC_LISTEN) is deprecated and will be removed: here it is --grpc-listen (MESHEXEC_GRPC_LISTEN)"]);
    expect(readFlags(renamed, [], { MESHEXEC_LISTEN: "h:3" }).values["grpc-listen"]).to.equal("h:3");
    expect(readFlags(renamed, [], {}).warnings).to.deep.equal([]);
  });
  it("refuse both names at once", () => {
    expect(() => readFlags(renamed, ["--listen", "h:2"], { MESHEXEC_GRPC_LISTEN: "h:3" })).to.throw(/give only --grpc-listen/);
  });
});

describe("formatDuration", () => {
  it("writes a default as parseDuration reads it", () => {
    for (const ms of [0, 1500, 5_000, 10_000, 90_000, 3_600_000, 7 * 86_400_000]) expect(parseDuration("d", formatDuration(ms))).to.equal(ms);
    expect(formatDuration(7 * 86_400_000)).to.equal("7d");
    expect(formatDuration(5_000)).to.equal("5s");
  });
});
