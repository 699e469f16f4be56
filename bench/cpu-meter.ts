import type { BenchChild } from "./child.js";
import { round } from "./stats.js";

/**
 * CPU each of the mesh's processes spent per unit of work (an exec, a request) over a window.
 * On 2 cores this says what a rate can reach at all: the CPU ms per request of every process on
 * the machine, summed, cannot exceed 2,000 ms per second.
 */
export class CpuMeter {
  private readonly started: Map<string, number>;

  constructor(private readonly processes: Record<string, BenchChild>) {
    this.started = new Map(Object.entries(processes).map(([name, child]) => [name, child.cpuMs()]));
  }

  /** ms of CPU, by process, since the meter was made. */
  total(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.processes).map(([name, child]) => [name, child.cpuMs() - this.started.get(name)!]));
  }

  /** ms of CPU per unit, by process, since the meter was made. */
  perUnit(units: number): Record<string, number> {
    return Object.fromEntries(Object.entries(this.total()).map(([name, ms]) => [name, round(ms / units, 3)]));
  }
}
