import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";

export type JsonLine = Record<string, unknown> & { msg?: string };

export interface ChildOptions {
  env?: Record<string, string>;
  /** Set: the child runs under `node --cpu-prof` and writes its profile here when it exits. */
  cpuProfileDir?: string;
}

const live = new Set<BenchChild>();
/** USER_HZ: 100 on every Linux the bench targets (getconf CLK_TCK). */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * A Node process the bench started (a `meshexec` subcommand, or a bench helper), speaking
 * JSON lines on stdout. It runs as its own process so its memory is its own and so it
 * competes for the cores as it would in production, not inside the bench's event loop.
 */
export class BenchChild {
  private readonly lines: JsonLine[] = [];
  private readonly waiters = new Set<() => void>();
  private stderr = "";
  readonly exited: Promise<void>;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = once(child, "exit").then(() => {
      live.delete(this);
      this.wake();
    });
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (!line.startsWith("{")) return;
      this.lines.push(JSON.parse(line) as JsonLine);
      // Only the lines the bench waits for are kept: an exec log line per call would grow without bound.
      if (this.lines.length > 1000) this.lines.splice(0, this.lines.length - 1000);
      this.wake();
    });
    child.stderr!.on("data", (chunk) => (this.stderr = (this.stderr + chunk).slice(-4000)));
  }

  static start(name: string, script: string, args: string[], options: ChildOptions = {}): BenchChild {
    const profile = options.cpuProfileDir
      ? ["--cpu-prof", "--cpu-prof-dir", options.cpuProfileDir, "--cpu-prof-name", `${name.replace(/\W+/g, "-")}.cpuprofile`]
      : [];
    const child = spawn(process.execPath, [...profile, script, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const started = new BenchChild(name, child);
    live.add(started);
    return started;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Resolves with the first JSON line whose msg is `msg` and that `match` accepts; fails if the child exits first. */
  waitForLine(msg: string, timeoutMs = 30_000, match: (line: JsonLine) => boolean = () => true): Promise<JsonLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines.find((line) => line.msg === msg && match(line));
        if (found) return done(() => resolve(found));
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
          done(() => reject(new Error(`${this.name} exited (${this.child.exitCode ?? this.child.signalCode}) before "${msg}": ${this.stderr}`)));
        }
      };
      const timer = setTimeout(() => done(() => reject(new Error(`${this.name}: no "${msg}" within ${timeoutMs} ms: ${this.stderr}`))), timeoutMs);
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        settle();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Resident and peak resident memory, in MiB, from /proc: this process's alone. */
  memory(): { rssMiB: number; peakRssMiB: number } {
    const status = readFileSync(`/proc/${this.pid}/status`, "utf8");
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
    return { rssMiB: Math.round(kib("VmRSS") / 102.4) / 10, peakRssMiB: Math.round(kib("VmHWM") / 102.4) / 10 };
  }

  /** CPU time (user + system) this process has used so far, in ms, from /proc/PID/stat. */
  cpuMs(): number {
    // The command name (field 2) may hold spaces, so fields are counted from after its ")".
    const fields = readFileSync(`/proc/${this.pid}/stat`, "utf8").split(") ")[1].split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  }

  /** SIGTERM, so a profiled child writes its profile; SIGKILL if it has not gone within graceMs. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGTERM");
    const force = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(force);
  }

  private wake(): void {
    [...this.waiters].forEach((check) => check());
  }
}

export async function stopAllChildren(): Promise<void> {
  await Promise.all([...live].map((child) => child.stop()));
}
