/**
 * Ingestion with two API server replicas appending to one tenant (the chart's default replicaCount is 2, and a
 * load balancer spreads one tenant's requests over both). Each replica's optimistic append only works at the
 * head it wrote last, so here the replicas keep invalidating each other; this benchmark shows what that costs
 * and how the batcher's back-off keeps failed attempts rare. Prints numbers; no target.
 * `node bench/ingest-replicas.ts` (BENCH_SINGLE_EVENTS, default 20000; BENCH_EVENTS, default 40000).
 */
import { request } from "undici";
import { checkpoint, freshBenchDatabase, verifyChain } from "./lib/database.ts";
import { makeEventInputs } from "./lib/events.ts";
import { httpClient, httpIngest } from "./lib/load.ts";
import { createTenant, startServerProcess, type BenchServer } from "./lib/server.ts";
import { fmtInt, intEnv, table } from "./lib/stats.ts";

const singles = intEnv("BENCH_SINGLE_EVENTS", 20_000);
const batchEvents = intEnv("BENCH_EVENTS", 40_000);
const warmup = 4000;
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);

async function appendPaths(s: BenchServer): Promise<Record<string, number>> {
  const text = await (await request(`${s.url}/metrics`)).body.text();
  return Object.fromEntries(["optimistic", "stale_head", "locking"].map((p) => [p, Number(new RegExp(`^trailkeeper_append_groups_total\\{path="${p}"\\} (\\d+)`, "m").exec(text)?.[1] ?? 0)]));
}

const db = await freshBenchDatabase();
const servers = [
  await startServerProcess({ databaseUrl: db.url, workDir: db.workDir, cpuProfile: false }),
  await startServerProcess({ databaseUrl: db.url, workDir: db.workDir, cpuProfile: false }),
];
try {
  const key = (await createTenant(servers[0]!, "shared", ["events:write"]))!;
  const http = servers.map((s) => httpClient(s.url, 32));
  /** Every other body to each replica, each from `clients` loops; events/s over the slower replica's time. */
  const phase = async (bodies: Buffer[], perBody: number, clients: number) => {
    const before = await Promise.all(servers.map(appendPaths));
    const r = await Promise.all([0, 1].map((k) => httpIngest(http[k]!, key, bodies.filter((_, i) => i % 2 === k), perBody, clients)));
    const after = await Promise.all(servers.map(appendPaths));
    const paths = Object.fromEntries(Object.keys(after[0]!).map((p) => [p, after[0]![p]! + after[1]![p]! - before[0]![p]! - before[1]![p]!]));
    return { rate: (r[0]!.events + r[1]!.events) / Math.max(r[0]!.seconds, r[1]!.seconds), paths };
  };
  const single = makeEventInputs(warmup + singles, 11).map((e) => Buffer.from(JSON.stringify(e)));
  log(`warm-up: ${warmup} single-event requests`);
  await phase(single.slice(0, warmup), 1, 32);
  await checkpoint(db.pool);
  log(`single events: ${singles} requests from 2 × 32 clients`);
  const s = await phase(single.slice(warmup), 1, 32);
  const inputs = makeEventInputs(batchEvents, 13);
  const batches: Buffer[] = [];
  for (let i = 0; i < inputs.length; i += 1000) batches.push(Buffer.from(JSON.stringify({ events: inputs.slice(i, i + 1000) })));
  await checkpoint(db.pool);
  log(`batches: ${batches.length} requests of 1000 events from 2 × 2 clients`);
  const b = await phase(batches, 1000, 2);
  await verifyChain(db.pool, "shared", 1 + warmup + singles + batchEvents, true);
  const row = (label: string, x: { rate: number; paths: Record<string, number> }) => [label, fmtInt(x.rate), fmtInt(x.paths.optimistic!), fmtInt(x.paths.stale_head!), fmtInt(x.paths.locking!)];
  process.stdout.write(`\nTwo API server replicas, one tenant (chain verified)\n${table(
    ["phase", "events/s", "optimistic groups", "stale_head groups", "locking groups"],
    [row("single events, 2 × 32 clients", s), row("1000-event batches, 2 × 2 clients", b)],
  )}\n`);
} finally {
  for (const s of servers) await s.stop();
  await db.close();
}
