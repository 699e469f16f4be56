/**
 * `make bench`: the mesh against the floor (a raw dockerode exec) and against what people use
 * instead (the docker CLI), then the mesh alone on the benchmark-only no-op runtime.
 * Flags: --only latency,throughput,fanout,edge,live,routers (default: all) and --cpu-prof (children write
 * .cpuprofile files to bench/profiles/; summarise them with dist/bench/profile-summary.js).
 */
import { mkdirSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { stopAllChildren } from "./child.js";
import { BenchContainers } from "./containers.js";
import { machineStamp } from "./machine.js";
import { Mesh } from "./mesh.js";
import { dockerCliExec } from "./paths/docker-cli-exec.js";
import { dockerodeExec } from "./paths/dockerode-exec.js";
import type { ExecPath } from "./paths/exec-path.js";
import { grpcExec } from "./paths/grpc-exec.js";
import { REST_TO_NOOP, restExec } from "./paths/rest-exec.js";
import { measureEdge } from "./phases/edge.js";
import { measureFanOut } from "./phases/fan-out.js";
import { measureLatency } from "./phases/latency.js";
import { measureSeveralRouters } from "./phases/several-routers.js";
import { measureLiveOutput } from "./phases/live-output.js";
import { measureThroughput } from "./phases/throughput.js";
import { progress } from "./progress.js";
import { report } from "./report.js";
import type { Measured } from "./targets.js";

const PHASES = ["latency", "throughput", "fanout", "edge", "live", "routers"] as const;
const DOCKER_AGENT = "bench-docker";
const NOOP_AGENT = "bench-noop";
const CONTAINERS = 8;

const { values } = parseArgs({ options: { only: { type: "string" }, "cpu-prof": { type: "boolean" } } });
const phases = new Set(values.only ? values.only.split(",") : PHASES);
const cpuProfileDir = values["cpu-prof"] ? new URL("../../bench/profiles/", import.meta.url).pathname : undefined;
if (cpuProfileDir) mkdirSync(cpuProfileDir, { recursive: true });

const containers = new BenchContainers();
const paths: ExecPath[] = [];
let cleaning: Promise<void> | undefined;
const cleanUp = () =>
  (cleaning ??= (async () => {
    paths.forEach((path) => path.close());
    await stopAllChildren();
    const removed = await containers.removeAll();
    progress(`removed ${removed} bench container(s)`);
  })());
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => void cleanUp().finally(() => process.exit(130)));
}

try {
  const machine = machineStamp();
  progress(`${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, Docker ${machine.docker}, load ${machine.loadAverageAtStart}`);
  const measured: Measured = {};
  const notes: string[] = [];
  if (machine.loadAverageAtStart > 0.5)
    notes.push(`the machine was busy when the run began (1-minute load ${machine.loadAverageAtStart}); figures may be noisy`);

  await containers.removeAll();
  const names = await containers.start(CONTAINERS);
  progress(`started ${names.length} containers`);

  const mesh = new Mesh(cpuProfileDir);
  const token = await mesh.token();
  const router = await mesh.router();
  const gateway = await mesh.gateway(router.port);
  const dockerAgent = await mesh.agent(router.port, DOCKER_AGENT, "docker");
  const noopAgent = await mesh.agent(router.port, NOOP_AGENT, "noop");
  const stack = [router.process, gateway.process, dockerAgent, noopAgent];
  const routerAddress = `127.0.0.1:${router.port}`;
  progress(`mesh up: router ${routerAddress}, edge ${gateway.url}, agents ${DOCKER_AGENT} (docker) and ${NOOP_AGENT} (no-op runtime, benchmark only)`);

  const floor = dockerodeExec();
  const rest = restExec(gateway.url, token, DOCKER_AGENT, 32);
  paths.push(floor, dockerCliExec(), rest, grpcExec(routerAddress, token, DOCKER_AGENT), restExec(gateway.url, token, NOOP_AGENT, 1, REST_TO_NOOP));

  if (phases.has("latency")) {
    progress("1. latency: one exec at a time, the four paths (and the mesh alone) interleaved");
    measured.latency = await measureLatency(paths, names[0], 200, 20);
  }
  if (phases.has("throughput")) {
    progress(`2. throughput: (a) and (c) across ${CONTAINERS} containers at concurrency 8 and 32`);
    measured.throughput = await measureThroughput(floor, rest, names, [8, 32], 5_000, { router: router.process, gateway: gateway.process, agent: dockerAgent });
  }
  // The edge phase runs before the fan-out because it uses this stack's no-op agent.
  if (phases.has("edge")) {
    progress("4. edge overhead: 50 connections on the no-op runtime, REST and gRPC");
    measured.edge = await measureEdge(
      gateway.url,
      routerAddress,
      token,
      NOOP_AGENT,
      { router: router.process, gateway: gateway.process, agent: noopAgent },
      50,
      10,
    );
  }
  // The fleet runs on its own routers; this stack would only take CPU from them.
  await Promise.all(stack.map((child) => child.stop()));
  if (phases.has("live")) {
    progress("5. live output: 10 MB over 5 s through ?stream=true, with and without output events, then a slow reader");
    measured.liveOutput = await measureLiveOutput(mesh, token, names[0]);
  }
  if (phases.has("fanout")) {
    progress("3. fan-out: _all over 10, 100 and 1,000 no-op agents, a fresh router each");
    measured.fanOut = await measureFanOut(mesh, token, [10, 100, 1000], (n) => (n >= 1000 ? 100 : 200));
  }
  // Routers in a mesh keep jobs in PostgreSQL: the phase runs against the database this names.
  const benchDatabaseUrl = process.env.MESHEXEC_BENCH_DATABASE_URL;
  if (phases.has("routers") && !benchDatabaseUrl)
    notes.push("phase 6 (several routers) skipped: set MESHEXEC_BENCH_DATABASE_URL to a PostgreSQL database it may use");
  if (phases.has("routers") && benchDatabaseUrl) {
    progress("6. several routers on NATS: the forwarding hop, and _all over 1,000 no-op agents on one router and on three");
    measured.severalRouters = await measureSeveralRouters(mesh, token, benchDatabaseUrl, 500, 1000, 50);
  }
  await cleanUp();
  notes.push(`1-minute load average at the end: ${loadavg()[0].toFixed(2)}`);
  report(machine, measured, notes);
} catch (err) {
  progress(`failed: ${(err as Error).stack ?? err}`);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
process.exit();
