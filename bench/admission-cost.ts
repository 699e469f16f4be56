import { randomUUID } from "node:crypto";
import { openPostgresStores } from "../src/store/index.js";
import { SubjectLimits, type SubjectLimitsConfig } from "../src/router/subject-limits.js";
import { TestPostgres } from "../test/support/postgres.js";

/**
 * What admitting one exec costs: the lone router's in-memory SubjectLimits against the shared one
 * in PostgreSQL (one upsert to admit, one statement to release), sequential, as one exec pays it.
 * PostgreSQL is Debian's 15 on loopback, fsync off as in the tests: a real server adds its disk's
 * commit latency and the network's round trip. Run: npx tsx bench/admission-cost.ts (not part of make bench).
 */
const SAMPLES = 2_000;
/** Limits that never refuse here, so each sample is a full admission: token, slot and release. */
const LIMITS: SubjectLimitsConfig = { ratePerSecond: 1_000_000, burst: 1_000_000, maxConcurrent: 1_000_000 };

async function measure(name: string, admitOnce: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 200; i++) await admitOnce(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const started = performance.now();
    await admitOnce();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  const at = (p: number) => (samples[Math.floor((samples.length - 1) * p)] * 1000).toFixed(1);
  console.log(`${name}: admit p50 ${at(0.5)} µs, p99 ${at(0.99)} µs`);
}

const memory = new SubjectLimits(LIMITS);
await measure("in memory", async () => memory.admit("bench").release());

const postgres = await TestPostgres.start();
try {
  const stores = await openPostgresStores({ url: await postgres.createDatabase() });
  const shared = stores.sharedAdmissions!;
  await measure("PostgreSQL, admit only", () => shared.admit("bench", randomUUID(), "r1", LIMITS));
  await shared.releaseAllOf("r1");
  await measure("PostgreSQL, admit + release", async () => {
    const id = randomUUID();
    await shared.admit("bench", id, "r1", LIMITS);
    await shared.release([id]);
  });
  await stores.close();
} finally {
  await postgres.destroy();
}
