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
  /** Each window's execs/s, in the order run: how far the machine's noise moves one path's rate. */
  floorWindowRates: number[];
  restWindowRates: number[];
}

interface Window {
  completed: number;
  errors: number;
  firstError?: string;
  seconds: number;
}

/** One path's windows at one concurrency, pooled, with each window's own rate. */
interface Pooled extends Window {
  rates: number[];
}

/**
 * Per concurrency, the paths take turns in this order (ABBA twice): a drift in the machine's load
 * weighs on both equally. One window's rate moves by 10–25% from the next here, so a single pair
 * could not judge a 0.9 ratio; four windows each, pooled, can.
 */
const WINDOW_ORDER = ["a", "c", "c", "a", "a", "c", "c", "a"] as const;

/**
 * Execs per second across the containers, `concurrency` execs in flight, worker k always on
 * container k mod the count, each path's windows pooled.
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
    const totals = new Map<ExecPath, Pooled>([floor, rest].map((p) => [p, { completed: 0, errors: 0, seconds: 0, rates: [] }]));
    const measure = async (path: ExecPath) => {
      const window = await runWindow(path, containers, concurrency, windowMs);
      const total = totals.get(path)!;
      const rate = round(window.completed / window.seconds, 1);
      total.completed += window.completed;
      total.errors += window.errors;
      total.seconds += window.seconds;
      total.rates.push(rate);
      total.firstError ??= window.firstError;
      progress(
        `throughput: ${path.id} at concurrency ${concurrency}: ${rate} execs/s${window.errors ? `, ${window.errors} errors (${window.firstError})` : ""}`,
      );
    };
    let floorCallerMicros = 0;
    const meshCpu = new Map<string, number>();
    for (const id of WINDOW_ORDER) {
      if (id === "a") {
        const before = process.cpuUsage();
        await measure(floor);
        const { user, system } = process.cpuUsage(before);
        floorCallerMicros += user + system;
      } else {
        const meter = new CpuMeter(mesh);
        await measure(rest);
        for (const [name, ms] of Object.entries(meter.total())) meshCpu.set(name, (meshCpu.get(name) ?? 0) + ms);
      }
    }
    const meshCpuMsPerExec = Object.fromEntries([...meshCpu].map(([name, ms]) => [name, round(ms / totals.get(rest)!.completed, 3)]));
    const rate = (path: ExecPath) => round(totals.get(path)!.completed / totals.get(path)!.seconds, 1);
    results.push({
      concurrency,
      floorExecsPerSecond: rate(floor),
      restExecsPerSecond: rate(rest),
      ratio: round(rate(rest) / rate(floor), 3),
      errors: totals.get(floor)!.errors + totals.get(rest)!.errors,
      meshCpuMsPerExec,
      floorCallerCpuMsPerExec: round(floorCallerMicros / 1000 / totals.get(floor)!.completed, 3),
      floorWindowRates: totals.get(floor)!.rates,
      restWindowRates: totals.get(rest)!.rates,
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
