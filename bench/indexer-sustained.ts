/**
 * The search indexer beside sustained ingest (issue 16, docs/scaling.md): which steady ingest rate the free-text
 * indexer (ADR 9) keeps up with while the appends run, rather than after a burst.
 *
 * One tenant; for each rate of BENCH_SUSTAINED_RATES (events/s, default 1000,2000,3000,4000,5000), a client POSTs
 * batches of BENCH_SUSTAINED_BATCH events (default 100) on an absolute schedule for BENCH_SUSTAINED_SECONDS
 * (default 60), at most 32 requests in flight (a server that cannot take the rate makes the client fall behind,
 * which shows as a lower achieved rate). Every half second it samples the chain head and the search mark: the
 * indexer's lag is the events acknowledged but not yet indexed. Printed per rate: the achieved rate, the lag's mean
 * (also as seconds of ingest) and maximum over the last 20 s of the phase (past the indexer's 30 s of deferring to
 * a burst), its growth over them (events/s, least squares), the seconds the indexer needed to catch up after the
 * phase, the CPU per event of the server and PostgreSQL (the indexer's work during the phase included) and the
 * requests' p50 and p99 latency over the same 20 s (what the indexer's share of the CPUs costs the appends). The
 * indexer keeps up when the lag does not grow: growth under 2 % of the rate.
 * BENCH_SEARCH_INDEX_MAX_DEFER_SECONDS is passed to the server (TRAILKEEPER_SEARCH_INDEX_MAX_DEFER_SECONDS; a large
 * value gives the indexer as it was before that setting: deferring until 100,000 events wait).
 * Not a timed test. `node bench/indexer-sustained.ts`.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { checkpoint, freshBenchDatabase, verifyChain, type BenchDatabase } from "./lib/database.ts";
import { cpuDelta, cpuSnapshot, machineLoad } from "./lib/cpu.ts";
import { makeEventInputs } from "./lib/events.ts";
import { httpClient, LoadFailure } from "./lib/load.ts";
import { createTenant, startServerProcess, type BenchServer } from "./lib/server.ts";
import { fmtInt, fmtMs, fmtRatio, intEnv, markdownTable, percentile, table } from "./lib/stats.ts";

const rates = (process.env.BENCH_SUSTAINED_RATES ?? "1000,2000,3000,4000,5000").split(",").map(Number);
if (rates.some((r) => !Number.isFinite(r) || r <= 0)) throw new Error("BENCH_SUSTAINED_RATES: a list of events per second");
const batch = intEnv("BENCH_SUSTAINED_BATCH", 100);
const seconds = intEnv("BENCH_SUSTAINED_SECONDS", 60);
const steadyFrom = Math.max(0, seconds - 20);
const maxDeferSeconds = process.env.BENCH_SEARCH_INDEX_MAX_DEFER_SECONDS;
const maxInFlight = 32;
const tenant = "bench-sustained";
const started = performance.now();
const log = (msg: string) => process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`);

interface Sample {
  t: number;
  lag: number;
}

interface RateResult {
  target: number;
  achieved: number;
  events: number;
  lagMean: number;
  lagMax: number;
  growth: number;
  catchUp: number;
  serverUs: number;
  postgresUs: number;
  /** Request latency (ms) over the last 20 s: what the indexer's share of the CPUs costs the appends. */
  p50: number;
  p99: number;
}

const lagOf = async (db: BenchDatabase) => {
  const r = await db.pool.query<{ lag: string }>("SELECT c.seq - coalesce(s.seq, 0) AS lag FROM chain_heads c LEFT JOIN search_index_heads s USING (tenant) WHERE c.tenant = $1", [tenant]);
  return Number(r.rows[0]?.lag ?? 0);
};

/** Slope (per second) of the least-squares line through the samples. */
function slope(samples: readonly Sample[]): number {
  const n = samples.length;
  if (n < 2) return 0;
  const mt = samples.reduce((a, s) => a + s.t, 0) / n;
  const ml = samples.reduce((a, s) => a + s.lag, 0) / n;
  const num = samples.reduce((a, s) => a + (s.t - mt) * (s.lag - ml), 0);
  const den = samples.reduce((a, s) => a + (s.t - mt) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

/** POSTs `batch`-event bodies at `rate` events/s for `seconds`, sampling the indexer's lag; then waits for it. */
async function runRate(db: BenchDatabase, server: BenchServer, key: string, bodies: readonly Buffer[], rate: number): Promise<RateResult> {
  await checkpoint(db.pool);
  const http = httpClient(server.url, maxInFlight);
  const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
  const interval = (batch / rate) * 1000;
  const requests = Math.round((rate * seconds) / batch);
  const samples: Sample[] = [];
  let inFlight = 0;
  let acked = 0;
  let failure: string | undefined;
  const latencies: { t: number; ms: number }[] = [];
  const slots: (() => void)[] = [];
  const send = async (i: number) => {
    const sent = performance.now();
    try {
      const res = await http.request({ path: "/v1/events", method: "POST", headers, body: bodies[i % bodies.length]! });
      const text = await res.body.text();
      if (res.statusCode !== 201) failure ??= `HTTP ${res.statusCode}: ${text.slice(0, 300)}`;
      else acked += batch;
      latencies.push({ t: (sent - t0) / 1000, ms: performance.now() - sent });
    } catch (err) {
      failure ??= String(err);
    } finally {
      inFlight -= 1;
      slots.shift()?.();
    }
  };
  const cpu0 = cpuSnapshot(server.pid, db.postmasterPid);
  const t0 = performance.now();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      samples.push({ t: (performance.now() - t0) / 1000, lag: await lagOf(db) });
      await sleep(500);
    }
  })();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < requests; i++) {
    const due = t0 + i * interval - performance.now();
    if (due > 0) await sleep(due);
    while (inFlight >= maxInFlight) await new Promise<void>((resolve) => slots.push(resolve));
    inFlight += 1;
    pending.push(send(i));
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = cpuDelta(cpu0, cpuSnapshot(server.pid, db.postmasterPid));
  sampling = false;
  await sampler;
  await http.close();
  if (failure) throw new LoadFailure(`at ${rate} events/s: ${failure}`);
  const tc = performance.now();
  while ((await lagOf(db)) > 0) {
    if (performance.now() - tc > 600_000) throw new Error("the search indexer did not catch up within 10 minutes");
    await sleep(100);
  }
  const catchUp = (performance.now() - tc) / 1000;
  const steady = samples.filter((s) => s.t >= steadyFrom);
  const steadyMs = Float64Array.from(latencies.filter((l) => l.t >= steadyFrom).map((l) => l.ms));
  return {
    target: rate, achieved: acked / elapsed, events: acked,
    lagMean: steady.reduce((a, s) => a + s.lag, 0) / Math.max(1, steady.length),
    lagMax: Math.max(0, ...steady.map((s) => s.lag)),
    growth: slope(steady), catchUp,
    // The CPU of the phase and of nothing after it: the indexer's remaining work is not counted.
    serverUs: (cpu.server / acked) * 1e6, postgresUs: (cpu.postgres / acked) * 1e6,
    p50: percentile(steadyMs, 50), p99: percentile(steadyMs, 99),
  };
}

const keepsUp = (r: RateResult) => r.growth < 0.02 * r.target;

async function main(): Promise<void> {
  const machine = machineLoad();
  log(`load average before start: ${machine.load1} on ${machine.cpus} CPUs; rates ${rates.join(", ")} events/s, ${seconds} s each, batches of ${batch}`);
  const db = await freshBenchDatabase();
  let server: BenchServer | undefined;
  try {
    const env = maxDeferSeconds === undefined ? undefined : { TRAILKEEPER_SEARCH_INDEX_MAX_DEFER_SECONDS: maxDeferSeconds };
    server = await startServerProcess({ databaseUrl: db.url, workDir: db.workDir, cpuProfile: false, env });
    const key = await createTenant(server, tenant, ["events:write"]);
    if (!key) throw new Error("no API key for the tenant");
    const inputs = makeEventInputs(20_000, 16);
    const bodies = Array.from({ length: inputs.length / batch }, (_, i) => Buffer.from(JSON.stringify({ events: inputs.slice(i * batch, (i + 1) * batch) })));
    const results: RateResult[] = [];
    let total = 0;
    for (const rate of rates) {
      log(`${fmtInt(rate)} events/s for ${seconds} s …`);
      const r = await runRate(db, server, key, bodies, rate);
      total += r.events;
      log(`achieved ${fmtInt(r.achieved)}/s, lag mean ${fmtInt(r.lagMean)} max ${fmtInt(r.lagMax)}, growth ${fmtInt(r.growth)}/s, caught up ${r.catchUp.toFixed(1)} s after`);
      results.push(r);
    }
    await server.stop();
    server = undefined;
    await verifyChain(db.pool, tenant, total + 1, true);
    const header = ["target events/s", "achieved", `lag mean (last ${seconds - steadyFrom} s)`, "lag max", "lag growth /s", "caught up after", "server µs/event", "PostgreSQL µs/event", "request p50 / p99 ms", "keeps up"];
    const rows = results.map((r) => [fmtInt(r.target), `${fmtInt(r.achieved)} (${fmtRatio(r.achieved / r.target)})`, `${fmtInt(r.lagMean)} (${(r.lagMean / r.target).toFixed(1)} s)`, fmtInt(r.lagMax), fmtInt(r.growth), `${r.catchUp.toFixed(1)} s`, fmtInt(r.serverUs), fmtInt(r.postgresUs), `${fmtMs(r.p50)} / ${fmtMs(r.p99)}`, keepsUp(r) ? "yes" : "no"]);
    process.stdout.write(`\nSearch indexer beside sustained ingest — ${machine.cpus} CPUs, load average ${machine.load1} at start, PostgreSQL ${db.serverVersion}, batches of ${batch}, ${seconds} s per rate, indexer deferring for ${maxDeferSeconds ?? "30 (default)"} s\n${table(header, rows)}\n\n${markdownTable(header, rows)}\n`);
  } finally {
    await server?.stop().catch(() => {});
    await db.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
