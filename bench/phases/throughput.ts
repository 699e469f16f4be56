import type { BenchChild } from "../child.js";
import { CpuMeter } from "../cpu-meter.js";
import { progress } from "../progress.js";
import { round } from "../stats.js";
import type { ExecPath } from "../paths/exec-path.js";

export interface ThroughputAt {
  concurrency: number;
  floorExecsPerSecond: number;
  restExecsPerSecond: number;
  /** (c) / (a). */
  ratio: number;
  errors: number;
  /** CPU ms per exec of each mesh process during the (c) windows: CPU the engine, on the same 2 cores, did not get. */
  meshCpuMsPerExec: Record<string, number>;
  /** CPU ms per exec of this process running (a): dockerode's own cost, the yardstick for the agent's. */
  floorCallerCpuMsPerExec: number;
}

interface Window {
  completed: number;
  errors: number;
  firstError?: string;
  seconds: number;
}

/**
 * Execs per second across the containers, `concurrency` execs in flight, worker k always on
 * container k mod the count. Per concurrency the two paths run in windows ordered a c c a, so a
 * drift in the machine's load over the minute weighs on both equally.
 */
export async function measureThroughput(
  floor: ExecPath,
  rest: ExecPath,
  containers: string[],
  concurrencies: number[],
  windowMs: number,
  mesh: Record<string, BenchChild>,
): Promise<ThroughputAt[]> {
  const results: ThroughputAt[] = [];
  for (const concurrency of concurrencies) {
    await runWindow(floor, containers, concurrency, 1_000);
    await runWindow(rest, containers, concurrency, 1_000);
    const totals = new Map<ExecPath, Window>([floor, rest].map((p) => [p, { completed: 0, errors: 0, seconds: 0 }]));
    const measure = async (path: ExecPath) => {
      const window = await runWindow(path, containers, concurrency, windowMs);
      const total = totals.get(path)!;
      total.completed += window.completed;
      total.errors += window.errors;
      total.seconds += window.seconds;
      total.firstError ??= window.firstError;
      progress(`throughput: ${path.id} at concurrency ${concurrency}: ${round(window.completed / window.seconds, 1)} execs/s${window.errors ? `, ${window.errors} errors (${window.firstError})` : ""}`);
    };
    let floorCallerMicros = 0;
    const measureFloor = async () => {
      const before = process.cpuUsage();
      await measure(floor);
      const { user, system } = process.cpuUsage(before);
      floorCallerMicros += user + system;
    };
    await measureFloor();
    const meter = new CpuMeter(mesh);
    await measure(rest);
    await measure(rest);
    const meshCpuMsPerExec = meter.perUnit(totals.get(rest)!.completed);
    await measureFloor();
    const rate = (path: ExecPath) => round(totals.get(path)!.completed / totals.get(path)!.seconds, 1);
    results.push({
      concurrency,
      floorExecsPerSecond: rate(floor),
      restExecsPerSecond: rate(rest),
      ratio: round(rate(rest) / rate(floor), 3),
      errors: totals.get(floor)!.errors + totals.get(rest)!.errors,
      meshCpuMsPerExec,
      floorCallerCpuMsPerExec: round(floorCallerMicros / 1000 / totals.get(floor)!.completed, 3),
    });
  }
  return results;
}

/** Workers start together and stop taking new execs at the deadline; the window lasts until the last one is back. */
async function runWindow(path: ExecPath, containers: string[], concurrency: number, windowMs: number): Promise<Window> {
  const window: Window = { completed: 0, errors: 0, seconds: 0 };
  const started = performance.now();
  const deadline = started + windowMs;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < deadline) {
        try {
          await path.exec(containers[worker % containers.length]);
          window.completed++;
        } catch (err) {
          window.errors++;
          window.firstError ??= (err as Error).message;
        }
      }
    }),
  );
  window.seconds = (performance.now() - started) / 1000;
  return window;
}
