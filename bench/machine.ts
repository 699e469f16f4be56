import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";

/** What a result was measured on, so numbers from two machines are never compared by accident. */
export interface MachineStamp {
  date: string;
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  docker: string;
  /** The 1-minute load average when the run began: other work on the machine shows here. */
  loadAverageAtStart: number;
}

export function machineStamp(): MachineStamp {
  return {
    date: new Date().toISOString(),
    cpuModel: cpuModel(),
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    docker: dockerVersion(),
    loadAverageAtStart: Math.round(loadavg()[0] * 100) / 100,
  };
}

function cpuModel(): string {
  const line = readFileSync("/proc/cpuinfo", "utf8")
    .split("\n")
    .find((l) => l.startsWith("model name"));
  return line?.split(":")[1]?.trim() ?? cpus()[0]?.model ?? "unknown";
}

function dockerVersion(): string {
  try {
    return execFileSync("docker", ["version", "--format", "{{.Server.Version}}"], { encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}
