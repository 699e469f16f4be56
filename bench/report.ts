import { writeFileSync } from "node:fs";
import type { MachineStamp } from "./machine.js";
import { judge, type Measured } from "./targets.js";

const RESULTS_FILE = new URL("../../bench/results.json", import.meta.url).pathname;

/** Prints every figure and the verdict on each target, and writes them all to bench/results.json. */
export function report(machine: MachineStamp, measured: Measured, notes: string[]): void {
  const verdicts = judge(measured);
  const out: string[] = [
    "",
    `meshexec bench — ${machine.date} — ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, Docker ${machine.docker}`,
    "",
  ];
  if (measured.latency) {
    const l = measured.latency;
    out.push(`1. One exec at a time (${l.rounds} interleaved rounds after ${l.warmupRounds} warm-up), ms`);
    out.push(
      table(
        ["path", "p50", "p99", "mean", "min", "max", "agent runtime p50", "mesh-only p50"],
        Object.entries(l.paths).map(([id, p]) => [
          `(${id}) ${p.label}`,
          p.p50,
          p.p99,
          p.mean,
          p.min,
          p.max,
          p.agentRuntime?.p50 ?? "-",
          p.meshOnly?.p50 ?? "-",
        ]),
      ),
    );
    out.push(`   (c)/(a) ${l.restOverFloorRatio} (+${l.restOverFloorMs} ms); (c)/(b) ${l.restOverCliRatio}`, "");
  }
  if (measured.throughput) {
    out.push("2. Throughput across 8 containers, execs/s");
    out.push(
      table(
        ["concurrency", "(a) dockerode", "(c) REST", "(c)/(a)", "errors", "CPU ms/exec: (a) caller", "(c) mesh"],
        measured.throughput.map((t) => [
          t.concurrency,
          t.floorExecsPerSecond,
          t.restExecsPerSecond,
          t.ratio,
          t.errors,
          t.floorCallerCpuMsPerExec,
          describeCpu(t.meshCpuMsPerExec),
        ]),
      ),
      ...measured.throughput.map(
        (t) => `   windows at ${t.concurrency} in flight, execs/s: (a) ${t.floorWindowRates.join(" ")}; (c) ${t.restWindowRates.join(" ")}`,
      ),
      "",
    );
  }
  if (measured.fanOut) {
    out.push("3. _all over N agents on the no-op runtime (benchmark-only: answers at once, runs nothing), gRPC caller, ms / MiB");
    out.push(
      table(
        ["agents", "processes", "p50", "p99", "router RSS connected", "after calls", "peak", "CPU ms per call by process"],
        measured.fanOut.map((f) => [
          f.agents,
          f.agentProcesses,
          f.latency.p50,
          f.latency.p99,
          f.routerRssConnectedMiB,
          f.routerRssAfterCallsMiB,
          f.routerPeakRssMiB,
          describeCpu(f.cpuMsPerCall),
        ]),
      ),
      "",
    );
  }
  if (measured.edge) {
    const e = measured.edge;
    out.push(`4. Edge overhead on the no-op runtime, ${e.connections} connections, ${e.seconds} s`);
    out.push(
      table(
        ["via", "req/s", "load generator", "CPU ms/request by process"],
        [
          ["REST edge → router → agent", e.restRequestsPerSecond, e.restLoadGenerator, describeCpu(e.restCpuMsPerRequest)],
          ["gRPC → router → agent", e.grpcRequestsPerSecond, "node (own process)", describeCpu(e.grpcCpuMsPerRequest)],
        ],
      ),
      "",
    );
  }
  if (measured.liveOutput) {
    const { withoutOutput, withOutput, slowReader, rssBeforeMiB } = measured.liveOutput;
    out.push("5. Live output: a command writing 10 MB over 5 s through ?stream=true (its own router, edge and agent, caps at 16 MiB)");
    out.push(
      table(
        ["reader", "s", "output events, bytes", "dropped", "CPU ms per MB written by process", "peak RSS router / edge, MiB"],
        (
          [
            ["results only (output=false)", withoutOutput],
            ["live output", withOutput],
            ["live output, slow reader (640 KiB/s)", slowReader],
          ] as const
        ).map(([label, run]) => [
          label,
          run.seconds,
          run.streamedBytes,
          String(run.outputDropped),
          describeCpu(run.cpuMsPerMB),
          `${run.peakRssMiB.router} / ${run.peakRssMiB.gateway}`,
        ]),
      ),
      `   RSS before the runs: router ${rssBeforeMiB.router} MiB, edge ${rssBeforeMiB.gateway} MiB`,
      "",
    );
  }
  if (measured.severalRouters) {
    const { hop, fanOut } = measured.severalRouters;
    out.push("6. Several routers on NATS (no-op runtime), ms");
    out.push(
      table(
        ["call", "p50", "p99", "CPU ms per host by router"],
        [
          ["one host, sent to the router holding its agent", hop.holding.p50, hop.holding.p99, "-"],
          ["one host, sent to another router (forwarded)", hop.forwarded.p50, hop.forwarded.p99, "-"],
          ...fanOut.map((f) => [
            `_all over ${f.agents}, spread over ${f.routers} router(s)`,
            f.latency.p50,
            f.latency.p99,
            describeCpu(f.cpuMsPerHostByRouter),
          ]),
        ],
      ),
      "",
    );
  }
  out.push("Targets");
  out.push(
    table(
      ["target", "measured", "verdict"],
      verdicts.map((v) => [v.target, v.measured, v.pass ? "PASS" : "MISS"]),
    ),
  );
  notes.forEach((note) => out.push(`note: ${note}`));
  process.stdout.write(`${out.join("\n")}\n`);
  writeFileSync(RESULTS_FILE, `${JSON.stringify({ machine, ...measured, targets: verdicts, notes }, null, 2)}\n`);
  process.stdout.write(`\nwrote ${RESULTS_FILE}\n`);
}

/** "router 0.21 + gateway 0.18 = 0.39": each process's share and their sum. */
function describeCpu(byProcess: Record<string, number>): string {
  const sum = Object.values(byProcess).reduce((a, b) => a + b, 0);
  return `${Object.entries(byProcess)
    .map(([name, ms]) => `${name} ${ms}`)
    .join(" + ")} = ${Math.round(sum * 1000) / 1000}`;
}

function table(header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  const line = (row: string[]) => `   ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ")}`;
  return [line(cells[0]), `   ${widths.map((w) => "-".repeat(w)).join("  ")}`, ...cells.slice(1).map(line)].join("\n");
}
