import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { openPostgresStores, openSqliteStores, type Stores } from "../src/store/index.js";
import { TestPostgres } from "../test/support/postgres.js";

/**
 * What recording one exec costs each store: the writes a single-host exec makes (create the job,
 * its one result, its end, its audit entry), awaited as the router awaits them. Sequential (the
 * latency one exec pays), then 32 execs in flight (what a busy router can record per second).
 * PostgreSQL is Debian's 15 on loopback, fsync off as in the tests: a real server adds its disk's
 * commit latency. Run: npx tsx bench/store-write-cost.ts (not part of make bench).
 */
const SEQUENTIAL = 500;
const CONCURRENT = { inFlight: 32, jobs: 2_000 };

async function recordOneExec(stores: Stores): Promise<void> {
  const id = randomUUID();
  await stores.jobs.create({
    id,
    router: "r1",
    subject: "bench",
    target: "h1",
    containerId: "c",
    command: ["true"],
    envKeys: [],
    hosts: ["h1"],
    createdAt: new Date(),
  });
  const result = {
    hostname: "h1",
    status: "ok",
    stdout: "hello\n",
    stderr: "",
    exitCode: 0,
    changed: true,
    error: "",
    durationMs: 3,
    stdoutTruncated: false,
    stderrTruncated: false,
  };
  await stores.jobs.addResults(id, [result]);
  await stores.jobs.finish(id, "completed");
  await stores.audit.append({
    time: new Date(),
    subject: "bench",
    sourceAddress: "127.0.0.1",
    target: "h1",
    containerId: "c",
    command: ["true"],
    grpcCode: "OK",
    httpStatus: 202,
    jobId: id,
    requestId: id,
    error: "",
  });
  // SQLite commits its batch when the event loop turns (setImmediate): let it, so its commit is in the figure.
  await new Promise((resolve) => setImmediate(resolve));
}

async function measure(name: string, stores: Stores): Promise<void> {
  for (let i = 0; i < 50; i++) await recordOneExec(stores); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    const started = performance.now();
    await recordOneExec(stores);
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENT.inFlight }, async () => {
      while (next++ < CONCURRENT.jobs) await recordOneExec(stores);
    }),
  );
  const perSecond = CONCURRENT.jobs / ((performance.now() - started) / 1000);
  const at = (p: number) => samples[Math.floor((samples.length - 1) * p)].toFixed(3);
  console.log(
    `${name.padEnd(10)} one exec recorded: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms; ${CONCURRENT.inFlight} in flight: ${Math.round(perSecond)} execs/s`,
  );
}

const dir = mkdtempSync(join(tmpdir(), "meshexec-bench-store-"));
const postgres = await TestPostgres.start();
try {
  const sqlite = openSqliteStores(dir);
  const pg = await openPostgresStores({ url: await postgres.createDatabase() });
  await measure("SQLite", sqlite);
  await measure("PostgreSQL", pg);
  await Promise.all([sqlite.close(), pg.close()]);
} finally {
  await postgres.destroy();
  rmSync(dir, { recursive: true, force: true });
}
