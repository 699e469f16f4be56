import { expect } from "chai";
import { GrpcStatus, MeshError } from "../errors/index.js";
import { AgentSession } from "./agent-session.js";
import { FleetView, type ListedHost, type RemoteHosts } from "./fleet-view.js";
import type { ExecDeliverer } from "./host-link.js";
import { AgentRegistry } from "./registry.js";
import { parseTarget } from "./target.js";

/** An agent's stream as far as a session writes to it: nothing is sent anywhere. */
const quietStream = { writableEnded: false, destroyed: false, write: () => true, end: () => {}, emit: () => true } as never;

function session(hostname: string, labels: Record<string, string> = {}, instanceId = hostname, kind: "token" | "join token" = "token"): AgentSession {
  return new AgentSession({ hostname, labels, version: "1", instanceId }, quietStream, { kind }, "peer", "here");
}

const nobody: ExecDeliverer = { deliver: () => {}, giveUp: () => {} };
const remoteHost = (hostname: string, labels: Record<string, string> = {}): ListedHost => ({
  hostname,
  labels,
  draining: false,
  inFlight: 0,
  router: "elsewhere",
  version: "1",
  connectedSince: new Date(0),
  deliverer: nobody,
});

class FakeRemote implements RemoteHosts {
  problem?: string;
  constructor(private readonly hosts: ListedHost[]) {}
  untrustedBecause() {
    return this.problem;
  }
  get(hostname: string) {
    return this.hosts.find((h) => h.hostname === hostname);
  }
  list() {
    return this.hosts;
  }
}

function refusal(run: () => unknown): MeshError {
  try {
    run();
  } catch (err) {
    return err as MeshError;
  }
  throw new Error("expected a refusal");
}

describe("FleetView", () => {
  const registry = new AgentRegistry(15_000);
  registry.register(session("b", { role: "db" }));
  registry.register(session("d", { role: "web" }));
  const remote = new FakeRemote([remoteHost("a", { role: "web" }), remoteHost("c", { role: "db" }), remoteHost("d")]);
  const fleet = new FleetView(registry, remote);

  it("resolves _all, labels and hostnames over this router's agents and every other router's, sorted", () => {
    expect(fleet.select(parseTarget("_all")).map((h) => `${h.hostname}@${h.router}`)).to.deep.equal(["a@elsewhere", "b@here", "c@elsewhere", "d@here"]);
    expect(fleet.select(parseTarget("role:db")).map((h) => h.hostname)).to.deep.equal(["b", "c"]);
    expect(fleet.select(parseTarget("c"))[0].router).to.equal("elsewhere");
  });

  it("prefers its own session of a hostname that another router still lists (the agent just moved here)", () => {
    expect(fleet.select(parseTarget("d"))[0].router).to.equal("here");
  });

  it("refuses what needs other routers' agents with UNAVAILABLE while their view is untrusted, but reaches its own", () => {
    remote.problem = "NATS unreachable";
    try {
      for (const target of ["_all", "_any", "role:db", "c"]) {
        const err = refusal(() => fleet.select(parseTarget(target)));
        expect(err.code, target).to.equal(GrpcStatus.UNAVAILABLE);
        expect(err.details, target).to.match(/NATS unreachable/);
      }
      expect(fleet.select(parseTarget("b"))[0].router).to.equal("here");
    } finally {
      remote.problem = undefined;
    }
  });

  it("is its registry alone on a lone router", () => {
    expect(new FleetView(registry).select(parseTarget("_all")).map((h) => h.hostname)).to.deep.equal(["b", "d"]);
  });
});

describe("AgentRegistry takeover", () => {
  it("lets the same agent reconnecting take its session over, and tells the observer of both", () => {
    const registry = new AgentRegistry(15_000);
    const seen: string[] = [];
    registry.observe({ connected: (s) => seen.push(`+${s.peer}`), disconnected: (s) => seen.push(`-${s.peer}`) });
    const first = session("h");
    registry.register(first);
    const again = new AgentSession(first.identity, quietStream, { kind: "token" }, "peer2", "here");
    expect(registry.register(again)).to.equal(first);
    expect(registry.get("h")).to.equal(again);
    expect(seen).to.deep.equal(["+peer", "-peer", "+peer2"]);
    registry.unregister(first);
    expect(registry.get("h"), "a stale session's end does not remove its successor").to.equal(again);
  });

  it("refuses another live agent with the hostname, and a join-token session taking over a verified one", () => {
    const registry = new AgentRegistry(15_000);
    registry.register(session("h"));
    expect(refusal(() => registry.register(session("h", {}, "other"))).code).to.equal(GrpcStatus.ALREADY_EXISTS);
    expect(refusal(() => registry.register(session("h", {}, "h", "join token"))).code).to.equal(GrpcStatus.PERMISSION_DENIED);
  });
});
