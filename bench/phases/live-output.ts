import http from "node:http";
import type { BenchChild } from "../child.js";
import { CpuMeter } from "../cpu-meter.js";
import type { Mesh } from "../mesh.js";
import { progress } from "../progress.js";
import { round } from "../stats.js";

const AGENT = "bench-live";
/** 50 bursts of 200,000 bytes, 0.1 s apart: 10 MB over about 5 s. */
const WRITER = ["sh", "-c", "i=0; while [ $i -lt 50 ]; do head -c 200000 /dev/zero | tr '\\0' x; sleep 0.1; i=$((i+1)); done"];
const WRITTEN_BYTES = 10_000_000;
/** Above the 10 MB, so the caps (1 MiB by default) keep and stream it all. */
const OUTPUT_LIMIT = String(16 * 1024 * 1024);
/** The slow reader takes this much every 100 ms: 640 KiB/s, a third of the 2 MB/s the command writes. */
const SLOW_READ_BYTES = 64 * 1024;

export interface LiveOutputRun {
  /** Bytes of output events the reader received. */
  streamedBytes: number;
  outputDropped: boolean;
  seconds: number;
  /** CPU ms per MB written by the command, by process. */
  cpuMsPerMB: Record<string, number>;
  /** Highest RSS seen while the call ran (sampled every 50 ms), MiB. */
  peakRssMiB: { router: number; gateway: number };
}

export interface LiveOutputResult {
  /** ?stream=true&output=false: the same exec with results only, what live output is compared to. */
  withoutOutput: LiveOutputRun;
  withOutput: LiveOutputRun;
  slowReader: LiveOutputRun;
  rssBeforeMiB: { router: number; gateway: number };
}

/**
 * The cost of live output: a command that writes 10 MB over 5 s, streamed through the REST edge
 * with and without output events (CPU per MB on the agent, the router and the edge), then with a
 * reader that takes a third of the pace, for the peak RSS of router and edge. Its own router,
 * edge and agent, with caps raised past the 10 MB, so that all of it is streamed.
 */
export async function measureLiveOutput(mesh: Mesh, token: string, container: string): Promise<LiveOutputResult> {
  const limits = ["--agent-output-limit", OUTPUT_LIMIT, "--max-fanout-output", OUTPUT_LIMIT];
  const router = await mesh.router("router-live", "127.0.0.1", limits);
  const gateway = await mesh.gateway(router.port);
  const agent = await mesh.agent(router.port, AGENT, "docker", ["--output-limit", OUTPUT_LIMIT]);
  const processes = { agent, router: router.process, gateway: gateway.process };
  try {
    const url = `${gateway.url}/node/${AGENT}/container/docker/${container}/exec`;
    const rssBeforeMiB = { router: router.process.memory().rssMiB, gateway: gateway.process.memory().rssMiB };
    const withoutOutput = await run(`${url}?stream=true&output=false`, token, processes, false);
    progress(`live output: results only, ${withoutOutput.seconds} s; CPU ms/MB ${JSON.stringify(withoutOutput.cpuMsPerMB)}`);
    const withOutput = await run(`${url}?stream=true`, token, processes, false);
    progress(`live output: streamed ${withOutput.streamedBytes} bytes in ${withOutput.seconds} s; CPU ms/MB ${JSON.stringify(withOutput.cpuMsPerMB)}`);
    const slowReader = await run(`${url}?stream=true`, token, processes, true);
    progress(
      `live output, slow reader: peak RSS router ${slowReader.peakRssMiB.router} MiB, edge ${slowReader.peakRssMiB.gateway} MiB; dropped: ${slowReader.outputDropped}`,
    );
    return { withoutOutput, withOutput, slowReader, rssBeforeMiB };
  } finally {
    await Promise.all(Object.values(processes).map((child) => child.stop()));
  }
}

function run(url: string, token: string, processes: Record<string, BenchChild>, slow: boolean): Promise<LiveOutputRun> {
  const meter = new CpuMeter(processes);
  const peak = { router: 0, gateway: 0 };
  const sample = setInterval(() => {
    peak.router = Math.max(peak.router, processes.router.memory().rssMiB);
    peak.gateway = Math.max(peak.gateway, processes.gateway.memory().rssMiB);
  }, 50);
  const started = performance.now();
  let streamedBytes = 0;
  let outputDropped = false;
  let resultStdoutBytes = -1;
  return new Promise<LiveOutputRun>((resolve, reject) => {
    const request = http.request(url, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" } }, (response) => {
      if (response.statusCode !== 200) return reject(new Error(`live output: HTTP ${response.statusCode}`));
      let buffered = "";
      const onLine = (line: string) => {
        const event = JSON.parse(line);
        if (event.type === "output") streamedBytes += Buffer.byteLength(event.data);
        if (event.type === "output_dropped") outputDropped = true;
        if (event.type === "result") resultStdoutBytes = Buffer.byteLength(event.result.stdout);
      };
      const take = (chunk: Buffer) => {
        buffered += chunk.toString();
        for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
          onLine(buffered.slice(0, nl));
          buffered = buffered.slice(nl + 1);
        }
      };
      if (slow) {
        // Paused, and read a little at a time: what a terminal far away, or a stalled client, does.
        response.pause();
        const timer = setInterval(() => {
          const chunk = response.read(SLOW_READ_BYTES) ?? response.read();
          if (chunk) take(chunk);
        }, 100);
        response.on("end", () => clearInterval(timer));
      } else {
        response.on("data", take);
      }
      response.on("end", () => {
        clearInterval(sample);
        if (resultStdoutBytes !== WRITTEN_BYTES) return reject(new Error(`live output: the result kept ${resultStdoutBytes} bytes, not ${WRITTEN_BYTES}`));
        const cpuMs = meter.total();
        resolve({
          streamedBytes,
          outputDropped,
          seconds: round((performance.now() - started) / 1000, 2),
          cpuMsPerMB: Object.fromEntries(Object.entries(cpuMs).map(([name, ms]) => [name, round(ms / (WRITTEN_BYTES / 1e6), 2)])),
          peakRssMiB: peak,
        });
      });
    });
    request.on("error", reject);
    request.end(JSON.stringify({ command: WRITER, timeout_seconds: 120 }));
  });
}
