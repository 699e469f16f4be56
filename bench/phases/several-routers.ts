import { BenchChild } from "../child.js";
import { CpuMeter } from "../cpu-meter.js";
import { GrpcCaller } from "../grpc-caller.js";
import type { Mesh } from "../mesh.js";
import { NatsServer } from "../nats-server.js";
import { progress } from "../progress.js";
import { round, summarize, type LatencySummary } from "../stats.js";

export interface SeveralRouters {
  /** One host's exec sent to the router holding its agent, and to another that forwards it over NATS. */
  hop: { holding: LatencySummary; forwarded: LatencySummary; extraP50Ms: number };
  /** `_all` over the same fleet, all on one router and spread over three. */
  fanOut: Array<{ routers: number; agents: number; latency: LatencySummary; cpuMsPerHostByRouter: Record<string, number> }>;
}

const NOOP_AGENTS = new URL("../noop-agents.js", import.meta.url).pathname;

/**
 * The cost of several routers on NATS (a single nats-server with JetStream): the extra hop of a
 * forward, and `_all` over a fleet spread over three routers against the same fleet on one.
 * Every router here is in the mesh (the one-router figure pays for presence too).
 */
export async function measureSeveralRouters(
  mesh: Mesh,
  token: string,
  databaseUrl: string,
  rounds: number,
  fleet: number,
  calls: number,
): Promise<SeveralRouters> {
  const nats = await NatsServer.start();
  const bench: RoutersBench = { mesh, token, nats, databaseUrl };
  try {
    return { hop: await measureHop(bench, rounds), fanOut: [await measureSpread(bench, fleet, 1, calls), await measureSpread(bench, fleet, 3, calls)] };
  } finally {
    await nats.stop();
  }
}

/** What every measurement here shares: the bench's processes, its token, NATS and the routers' database. */
interface RoutersBench {
  mesh: Mesh;
  token: string;
  nats: NatsServer;
  databaseUrl: string;
}

async function measureHop({ mesh, token, nats, databaseUrl }: RoutersBench, rounds: number): Promise<SeveralRouters["hop"]> {
  const holding = await mesh.meshRouter("hop-holding", nats.url, databaseUrl);
  const forwarding = await mesh.meshRouter("hop-forwarding", nats.url, databaseUrl);
  const agent = await mesh.agent(holding.port, "hop-noop", "noop");
  const direct = new GrpcCaller(`127.0.0.1:${holding.port}`, token);
  const viaPeer = new GrpcCaller(`127.0.0.1:${forwarding.port}`, token);
  try {
    const once = async (caller: GrpcCaller) => {
      const started = performance.now();
      const response = await caller.exec({ target: "hop-noop", containerId: "noop", command: ["true"] });
      if (response.results[0]?.status !== "ok") throw new Error(`hop: ${JSON.stringify(response.results[0])}`);
      return performance.now() - started;
    };
    // The forwarding router learns of the agent from presence: wait for it.
    for (let deadline = Date.now() + 15_000; ;) {
      try {
        await once(viaPeer);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    for (let i = 0; i < 50; i++) await Promise.all([once(direct), once(viaPeer)].map((p) => p));
    const samples = { holding: [] as number[], forwarded: [] as number[] };
    for (let i = 0; i < rounds; i++) {
      // Interleaved, in an order that alternates, one call at a time.
      if (i % 2 === 0) {
        samples.holding.push(await once(direct));
        samples.forwarded.push(await once(viaPeer));
      } else {
        samples.forwarded.push(await once(viaPeer));
        samples.holding.push(await once(direct));
      }
    }
    const result = { holding: summarize(samples.holding), forwarded: summarize(samples.forwarded) };
    const extraP50Ms = round(result.forwarded.p50 - result.holding.p50, 3);
    progress(`several routers: one host, p50 ${result.holding.p50} ms on its router, ${result.forwarded.p50} ms through another (+${extraP50Ms} ms)`);
    return { ...result, extraP50Ms };
  } finally {
    direct.close();
    viaPeer.close();
    await Promise.all([agent, holding.process, forwarding.process].map((child) => child.stop()));
  }
}

async function measureSpread({ mesh, token, nats, databaseUrl }: RoutersBench, fleet: number, routerCount: number, calls: number) {
  const routers = await Promise.all(
    Array.from({ length: routerCount }, (_, k) => mesh.meshRouter(`spread${routerCount}-${k + 1}`, nats.url, databaseUrl, "0.0.0.0")),
  );
  const agents: BenchChild[] = [];
  const perRouter = Math.ceil(fleet / routerCount);
  routers.forEach((router, k) => {
    const first = k * perRouter;
    const count = Math.min(perRouter, fleet - first);
    agents.push(
      BenchChild.start(`noop-agents-spread${routerCount}-${k}`, NOOP_AGENTS, [String(router.port), String(first), String(count)], {
        env: { MESHEXEC_AGENT_TOKEN: mesh.joinToken },
      }),
    );
  });
  const caller = new GrpcCaller(`127.0.0.1:${routers[0].port}`, token);
  try {
    await Promise.all(agents.map((child) => child.waitForLine("agents connected", 120_000)));
    const call = async () => {
      const started = performance.now();
      const response = await caller.exec({ target: "_all", containerId: "noop", command: ["true"] });
      const ok = response.results.filter((r) => r.status === "ok").length;
      if (ok !== fleet) throw new Error(`_all over ${fleet} agents on ${routerCount} router(s): ${ok} ok of ${response.results.length}`);
      return performance.now() - started;
    };
    // Until every router's agents are in the first router's view.
    for (let deadline = Date.now() + 30_000; ;) {
      try {
        await call();
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
    for (let i = 0; i < 10; i++) await call();
    const meter = new CpuMeter(Object.fromEntries(routers.map((router, k) => [`router ${k + 1}`, router.process])));
    const samples: number[] = [];
    for (let i = 0; i < calls; i++) samples.push(await call());
    const latency = summarize(samples);
    const cpuMsPerHostByRouter = Object.fromEntries(Object.entries(meter.perUnit(calls * fleet)).map(([name, ms]) => [name, round(ms, 4)]));
    progress(
      `several routers: _all over ${fleet} on ${routerCount} router(s): p50 ${latency.p50} ms, p99 ${latency.p99} ms; CPU ms per host ${JSON.stringify(cpuMsPerHostByRouter)}`,
    );
    return { routers: routerCount, agents: fleet, latency, cpuMsPerHostByRouter };
  } finally {
    caller.close();
    await Promise.all([...agents, ...routers.map((router) => router.process)].map((child) => child.stop()));
  }
}
