/**
 * Ingestion benchmark (issues 2 and 16): HTTP batch and single-event ingest through a real API server, beside the
 * limits measured in the same run — COPY FROM STDIN into `events` and into a key-only copy of it, single-row
 * autocommit INSERT, and the same HTTP stack answering a no-op POST — and batch ingest spread over several tenants
 * (their appends run in parallel backends). Each phase also reports the WAL it wrote per event. Prints numbers;
 * not a timed test.
 * `node bench/ingest.ts`; sizes and knobs via BENCH_* (see below).
 */
import { totalmem } from "node:os";
import { writeFileSync } from "node:fs";
import type { Pool as HttpPool } from "undici";
import { cpuDelta, cpuSnapshot, machineLoad, type CpuSnapshot } from "./lib/cpu.ts";
import { formatSummary, loadProfile, monotonicMicros, summarise } from "./lib/cpuprofile.ts";
import { backfillTreeStep } from "../core/src/db/merkle-tree.ts";
import { checkpoint, freshBenchDatabase, verifyChain, type BenchDatabase } from "./lib/database.ts";
import { copyPayload, makeEventInputs, precomputeChain } from "./lib/events.ts";
import { connectAll, copyIngest, httpClient, httpIngest, insertIngest, noopPosts, type LoadResult } from "./lib/load.ts";
import { appendTransactions, createTenant, startServerProcess, type BenchServer } from "./lib/server.ts";
import { fmtInt, fmtMs, fmtRatio, intEnv, markdownTable, percentile, table } from "./lib/stats.ts";

const config = {
  /** Events of the batch phase (a) and of the COPY limit (c). */
  batchEvents: intEnv("BENCH_EVENTS", 80_000),
  batchSize: intEnv("BENCH_BATCH_SIZE", 1000),
  batchClients: intEnv("BENCH_BATCH_CLIENTS", 4),
  /** Tenants of phase (g): the batch phase's events and clients spread over this many tenants. */
  tenants: intEnv("BENCH_TENANTS", 4),
  /** Events (= requests) of the single-event phase (b) and of the INSERT limit (d). */
  singleEvents: intEnv("BENCH_SINGLE_EVENTS", 20_000),
  singleClients: intEnv("BENCH_SINGLE_CLIENTS", 64),
  insertConnections: intEnv("BENCH_INSERT_CONNECTIONS", 64),
  /** What-if only: synchronous_commit for the (d) sessions, e.g. `off`, to show whether commit latency bounds it. */
  insertSynchronousCommit: process.env.BENCH_INSERT_SYNCHRONOUS_COMMIT,
  /** Warm-up: batch requests before everything, single-event requests right before (b). */
  warmupBatches: intEnv("BENCH_WARMUP_BATCHES", 10),
  warmupSingles: intEnv("BENCH_WARMUP_SINGLES", 3000),
  /** What-if runs only: indexes of the events table to drop before loading (comma-separated), e.g. events_search_trgm. */
  dropIndexes: (process.env.BENCH_DROP_INDEXES ?? "").split(",").map((s) => s.trim()).filter(Boolean),
  /** BENCH_CPU_PROF=1: run the server under `node --cpu-prof` and summarise where its time went in (a) and (b). */
  cpuProfile: process.env.BENCH_CPU_PROF === "1",
  /** The server's TRAILKEEPER_SEARCH_INDEX_MAX_DEFERRED (unset: its default), to weigh burst ingest against indexing. */
  searchIndexMaxDeferred: process.env.BENCH_SEARCH_INDEX_MAX_DEFERRED,
};
/** Issue 16's targets: (a) against a key-only COPY (e), (b) against the no-op POST floor (f). */
const targets = { batchVsKeyOnly: 0.25, singleVsNoop: 0.5 };
type PhaseKey = "a" | "b" | "c" | "d" | "e" | "f" | "g";
const phaseKeys: readonly PhaseKey[] = ["a", "b", "c", "d", "e", "f", "g"];

interface Phase {
  label: string;
  result: LoadResult;
  cpu: CpuSnapshot;
  /** Append transactions the server committed during the phase (group commit), HTTP phases only. */
  transactions: number;
  /** Monotonic microseconds, to cut the server's CPU profile to this phase. */
  window: [number, number];
  /** WAL bytes PostgreSQL wrote during the phase (everything the cluster wrote, the search indexer's too). */
  walBytes: number;
}

const rate = (r: LoadResult) => r.events / r.seconds;
const started = performance.now();
const log = (msg: string) => process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${msg}\n`);

function splitBodies(inputs: readonly unknown[], size: number): Buffer[] {
  const bodies: Buffer[] = [];
  for (let i = 0; i < inputs.length; i += size) bodies.push(Buffer.from(JSON.stringify({ events: inputs.slice(i, i + size) })));
  return bodies;
}

async function main(): Promise<void> {
  if (config.batchEvents % config.batchSize !== 0) throw new Error("BENCH_EVENTS must be a multiple of BENCH_BATCH_SIZE");
  const machine = { ...machineLoad(), memoryGiB: totalmem() / 2 ** 30, node: process.version };
  log(`load average before start: ${machine.load1} on ${machine.cpus} CPUs`);
  const db = await freshBenchDatabase();
  let server: BenchServer | undefined;
  try {
    log(`PostgreSQL ${db.serverVersion} (${db.mode}); ${JSON.stringify(db.settings)}`);
    for (const index of config.dropIndexes) {
      if (!/^[a-z_][a-z0-9_]*$/.test(index)) throw new Error(`BENCH_DROP_INDEXES: ${index} is not an index name`);
      await db.pool.query(`DROP INDEX ${index}`);
      log(`WHAT-IF: dropped index ${index} (not the shipped schema)`);
    }
    const serverEnv = config.searchIndexMaxDeferred === undefined ? undefined : { TRAILKEEPER_SEARCH_INDEX_MAX_DEFERRED: config.searchIndexMaxDeferred };
    server = await startServerProcess({ databaseUrl: db.url, workDir: db.workDir, cpuProfile: config.cpuProfile, env: serverEnv });
    const { phases, catchUp } = await runPhases(db, server);
    await server.stop();
    const srv = server;
    server = undefined;
    log("verifying the chains: row counts, gapless seq, chain heads; every hash and link of the API-written ones");
    await verifyChain(db.pool, "bench-batch", config.batchEvents + 1, true);
    await verifyChain(db.pool, "bench-single", config.singleEvents + 1, true);
    await verifyChain(db.pool, "bench-warmup", 1 + config.warmupBatches * config.batchSize + config.warmupSingles, true);
    await verifyChain(db.pool, "bench-copy", config.batchEvents, false);
    await verifyChain(db.pool, "bench-insert", config.singleEvents, false);
    for (const [tenant, events] of multiTenantEvents()) await verifyChain(db.pool, tenant, events + 1, true);
    log("chains verified");
    report(db, machine, phases, catchUp);
    if (srv.cpuProfileDir) {
      const profile = loadProfile(srv.cpuProfileDir);
      for (const key of ["a", "b"] as const) {
        const p = phases[key];
        process.stdout.write(`\n${formatSummary(p.label, summarise(profile, ...p.window))}\n`);
      }
      process.stdout.write(`\nwhole profile: ${srv.cpuProfileDir} (BENCH_KEEP_DATA=1 keeps it)\n`);
    }
  } finally {
    await server?.stop().catch(() => {});
    await db.close();
  }
}

/** Times one phase, after a CHECKPOINT (unless the caller has just issued one) so each starts from clean buffers. */
async function measure(label: string, db: BenchDatabase, server: BenchServer, run: () => Promise<LoadResult>, checkpointFirst = true): Promise<Phase> {
  if (checkpointFirst) await checkpoint(db.pool);
  log(`${label} …`);
  const tx0 = await appendTransactions(server);
  const wal0 = await walPosition(db);
  const cpu0 = cpuSnapshot(server.pid, db.postmasterPid);
  const t0 = monotonicMicros();
  const result = await run();
  const window: [number, number] = [t0, monotonicMicros()];
  const cpu = cpuDelta(cpu0, cpuSnapshot(server.pid, db.postmasterPid));
  const walBytes = await walSince(db, wal0);
  const transactions = (await appendTransactions(server)).transactions - tx0.transactions;
  log(`${label}: ${fmtInt(rate(result))} events/s (${fmtInt(result.events)} events in ${result.seconds.toFixed(2)} s)`);
  return { label, result, cpu, window, transactions, walBytes };
}

const walPosition = async (db: BenchDatabase) => (await db.pool.query<{ lsn: string }>("SELECT pg_current_wal_insert_lsn()::text AS lsn")).rows[0]!.lsn;
const walSince = async (db: BenchDatabase, from: string) =>
  Number((await db.pool.query<{ bytes: string }>("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1::pg_lsn) AS bytes", [from])).rows[0]!.bytes);

/** Phase (g)'s tenants and how many events each gets (bodies are dealt round-robin). */
function multiTenantEvents(): [string, number][] {
  const bodies = config.batchEvents / config.batchSize;
  return Array.from({ length: config.tenants }, (_, t) => [`bench-multi-${t + 1}`, Math.ceil((bodies - t) / config.tenants) * config.batchSize]);
}

interface CatchUp {
  /** Seconds the search indexer needed after (a) and after (b). */
  a: number;
  b: number;
  /** WAL bytes written while the indexer caught up after (a): the search documents the burst deferred. */
  indexerWalA: number;
}

async function runPhases(db: BenchDatabase, server: BenchServer): Promise<{ phases: Record<PhaseKey, Phase>; catchUp: CatchUp }> {
  const { batchEvents, batchSize, batchClients, singleEvents, singleClients, insertConnections } = config;
  log("creating tenants and preparing events (not timed)");
  const keys = {
    batch: (await createTenant(server, "bench-batch", ["events:write"]))!,
    single: (await createTenant(server, "bench-single", ["events:write"]))!,
    warmup: (await createTenant(server, "bench-warmup", ["events:write"]))!,
  };
  const multiKeys: string[] = [];
  for (const [tenant] of multiTenantEvents()) multiKeys.push((await createTenant(server, tenant, ["events:write"]))!);
  await createTenant(server, "bench-copy");
  await createTenant(server, "bench-insert");
  // Different seeds per phase: the same kind of rows, never the same rows.
  const batchBodies = splitBodies(makeEventInputs(batchEvents, 1), batchSize);
  const singleBodies = makeEventInputs(singleEvents, 2).map((e) => Buffer.from(JSON.stringify(e)));
  const copyEvents = precomputeChain("bench-copy", makeEventInputs(batchEvents, 3));
  const copyData = copyPayload(copyEvents);
  const insertEvents = precomputeChain("bench-insert", makeEventInputs(singleEvents, 4));
  const warmupBatchBodies = splitBodies(makeEventInputs(config.warmupBatches * batchSize, 5), batchSize);
  const multiBodies = splitBodies(makeEventInputs(batchEvents, 7), batchSize);
  const warmupSingleBodies = makeEventInputs(config.warmupSingles, 6).map((e) => Buffer.from(JSON.stringify(e)));
  log(`batch request body: ${fmtInt(batchBodies[0]!.length)} bytes; single: ~${fmtInt(singleBodies[0]!.length)} bytes; COPY payload ${fmtInt(copyData.length)} bytes`);

  log(`warm-up: ${config.warmupBatches} batch requests`);
  await withHttp(server, batchClients, (http) => httpIngest(http, keys.warmup, warmupBatchBodies, batchSize, batchClients));

  // Connections are opened before and closed after each measured window, so that the backends' CPU is still
  // counted (a backend that exits is only added to the postmaster's children time once reaped).
  const copyConnection = await connectAll(db.url, 1);
  const c = await measure(`(c) COPY FROM STDIN, ${fmtInt(batchEvents)} rows, one stream`, db, server, () => copyIngest(copyConnection[0]!, copyData, batchEvents));
  await endAll(copyConnection);
  const headAfter = (events: typeof copyEvents) => events.at(-1)!;
  await db.pool.query("UPDATE chain_heads SET seq = $2, hash = $3 WHERE tenant = $1", ["bench-copy", headAfter(copyEvents).seq, headAfter(copyEvents).hash]);
  await buildTree(db, "bench-copy");

  // (e): the same rows into a copy of events that has only its keys, the yardstick of issue 16.
  await createKeyOnlyCopy(db);
  const keyOnlyConnection = await connectAll(db.url, 1);
  const e = await measure(`(e) COPY FROM STDIN into a key-only copy of events, ${fmtInt(batchEvents)} rows`, db, server, () => copyIngest(keyOnlyConnection[0]!, copyData, batchEvents, keyOnlyTable));
  await endAll(keyOnlyConnection);
  // The search indexer indexes the raw-limit tenant too: it finishes before the next phase starts.
  await searchIndexCaughtUp(db);

  const a = await measure(`(a) HTTP batch, ${batchSize} events/request, ${batchClients} clients`, db, server, () =>
    withHttp(server, batchClients, (http) => httpIngest(http, keys.batch, batchBodies, batchSize, batchClients)));
  const walA = await walPosition(db);
  const catchUpA = await searchIndexCaughtUp(db);
  const indexerWalA = await walSince(db, walA);
  log(`search index caught up ${catchUpA.toFixed(1)} s after (a) ended`);

  // (g): the same number of events and clients as (a), spread over several tenants, so several chains append at once.
  const g = await measure(`(g) HTTP batch, ${batchSize} events/request, ${batchClients} clients, ${config.tenants} tenants`, db, server, () =>
    withHttp(server, batchClients, (http) => httpIngest(http, multiKeys, multiBodies, batchSize, batchClients)));
  await searchIndexCaughtUp(db);

  const insertConnectionList = await connectAll(db.url, insertConnections);
  const syncCommit = config.insertSynchronousCommit;
  if (syncCommit) {
    if (!/^(on|off|local|remote_write|remote_apply)$/.test(syncCommit)) throw new Error(`BENCH_INSERT_SYNCHRONOUS_COMMIT: ${syncCommit} is not a synchronous_commit value`);
    await Promise.all(insertConnectionList.map((c) => c.query(`SET synchronous_commit = ${syncCommit}`)));
  }
  const insertLabel = `(d) INSERT autocommit, 1 row/statement, ${insertConnections} connection${insertConnections === 1 ? "" : "s"}${syncCommit ? ` (WHAT-IF synchronous_commit=${syncCommit})` : ""}`;
  const d = await measure(insertLabel, db, server, () =>
    insertIngest(insertConnectionList, insertEvents));
  await endAll(insertConnectionList);
  await db.pool.query("UPDATE chain_heads SET seq = $2, hash = $3 WHERE tenant = $1", ["bench-insert", headAfter(insertEvents).seq, headAfter(insertEvents).hash]);
  await buildTree(db, "bench-insert");
  await searchIndexCaughtUp(db);

  // (b) runs on sockets and a server already warmed by single-event requests; the checkpoint comes first, so that
  // the warm connections are not idle long enough for the server to close them.
  await checkpoint(db.pool);
  let catchUpB = 0;
  const [b, f] = await withHttp(server, singleClients, async (http) => {
    log(`warm-up: ${config.warmupSingles} single-event requests from ${singleClients} clients`);
    await httpIngest(http, keys.warmup, warmupSingleBodies, 1, singleClients);
    await searchIndexCaughtUp(db);
    const single = await measure(`(b) HTTP single event, ${singleClients} clients`, db, server, () => httpIngest(http, keys.single, singleBodies, 1, singleClients), false);
    catchUpB = await searchIndexCaughtUp(db);
    log(`search index caught up ${catchUpB.toFixed(1)} s after (b) ended`);
    // (f) on the same warm sockets: the same bodies and headers to a path no route serves.
    const noop = await measure(`(f) HTTP no-op POST (404), ${singleClients} clients`, db, server, () => noopPosts(http, keys.single, singleBodies, singleClients), false);
    return [single, noop] as const;
  });
  return { phases: { a, b, c, d, e, f, g }, catchUp: { a: catchUpA, b: catchUpB, indexerWalA } };
}

/**
 * The raw-limit rows bypass the server, so their tenant has no Merkle tree yet; building it here, between the
 * measured phases, keeps the server's back-fill job (run by its checkpointer) out of them.
 */
async function buildTree(db: BenchDatabase, tenant: string): Promise<void> {
  while ((await backfillTreeStep(db.pool, tenant)) > 0);
}

const keyOnlyTable = "bench_events_key_only";

/** A copy of `events` with its columns, constraints and partitioning, but only the primary key and (tenant, id). */
async function createKeyOnlyCopy(db: BenchDatabase): Promise<void> {
  await db.pool.query(`CREATE TABLE ${keyOnlyTable} (LIKE events INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING CONSTRAINTS) PARTITION BY RANGE (received_at)`);
  await db.pool.query(`CREATE TABLE ${keyOnlyTable}_p PARTITION OF ${keyOnlyTable} FOR VALUES FROM (MINVALUE) TO (MAXVALUE)`);
  await db.pool.query(`ALTER TABLE ${keyOnlyTable} ADD FOREIGN KEY (tenant) REFERENCES tenants (id), ADD PRIMARY KEY (tenant, seq, received_at)`);
  await db.pool.query(`CREATE INDEX ON ${keyOnlyTable} (tenant, id)`);
}

/**
 * Waits until the server's search indexer has a document for every event (ADR 9) and answers how long that took:
 * after an ingest phase, how far behind the append path the free-text index ended up.
 */
async function searchIndexCaughtUp(db: BenchDatabase): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const r = await db.pool.query<{ behind: string | null }>("SELECT sum(c.seq - coalesce(s.seq, 0)) AS behind FROM chain_heads c LEFT JOIN search_index_heads s USING (tenant)");
    if (Number(r.rows[0]?.behind ?? 0) === 0) return (performance.now() - t0) / 1000;
    if (performance.now() - t0 > 600_000) throw new Error(`the search indexer is still ${r.rows[0]?.behind} events behind after 10 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function endAll(clients: readonly { end(): Promise<void> }[]): Promise<void> {
  await Promise.all(clients.map((c) => c.end()));
}

async function withHttp<T>(server: BenchServer, connections: number, fn: (http: HttpPool) => Promise<T>): Promise<T> {
  const http = httpClient(server.url, connections);
  try {
    return await fn(http);
  } finally {
    await http.close();
  }
}

/**
 * CPU-seconds used by everything but the benchmark, the server and the cluster; unknown (NaN) when the database
 * is not on this machine (DATABASE_URL), as its CPU cannot be told apart from other work then.
 */
function otherCpu(cpu: CpuSnapshot): number {
  return Number.isFinite(cpu.server) && Number.isFinite(cpu.postgres) ? cpu.machine - cpu.client - cpu.server - cpu.postgres : Number.NaN;
}

function report(db: BenchDatabase, machine: ReturnType<typeof machineLoad> & { memoryGiB: number; node: string }, p: Record<PhaseKey, Phase>, catchUp: CatchUp): void {
  const ratioA = rate(p.a.result) / rate(p.e.result);
  const ratioB = rate(p.b.result) / rate(p.f.result);
  const met = (ratio: number, target: number) => (ratio >= target ? "yes" : "NO");
  const lat = (ph: Phase, q: number) => (ph.result.latencies.length ? fmtMs(percentile(ph.result.latencies, q)) : "–");
  const header = ["phase", "events", "seconds", "events/s", "p50 ms", "p99 ms", "limit", "limit events/s", "ratio", "target", "met"];
  const row = (ph: Phase, limit?: Phase, ratio?: number, target?: number) => [
    ph.label, fmtInt(ph.result.events), ph.result.seconds.toFixed(2), fmtInt(rate(ph.result)), lat(ph, 50), lat(ph, 99),
    limit ? limit.label.slice(0, 3) : "", limit ? fmtInt(rate(limit.result)) : "", ratio === undefined ? "" : fmtRatio(ratio),
    target === undefined ? "" : `≥ ${target}×`, ratio === undefined || target === undefined ? "" : met(ratio, target),
  ];
  const ratioG = rate(p.g.result) / rate(p.e.result);
  const rows = [row(p.a, p.e, ratioA, targets.batchVsKeyOnly), row(p.b, p.f, ratioB, targets.singleVsNoop), row(p.c), row(p.d), row(p.e), row(p.f), row(p.g, p.e, ratioG)];
  const cpuHeader = ["phase", "wall s", "bench CPU s", "server CPU s", "postgres CPU s", "other processes CPU s", "iowait s", "server µs/event", "postgres µs/event", "WAL B/event", "transactions", "events/transaction"];
  const cpuRows = phaseKeys.map((k) => {
    const { cpu, result, transactions } = p[k];
    const sec = (s: number) => (Number.isFinite(s) ? s.toFixed(2) : "–");
    const perEvent = (s: number) => (Number.isFinite(s) ? fmtInt((s * 1e6) / result.events) : "–");
    const tx = k === "a" || k === "b" || k === "g" ? transactions : k === "c" || k === "e" ? 1 : k === "f" ? 0 : result.events;
    return [
      p[k].label.slice(0, 3), result.seconds.toFixed(2), sec(cpu.client), sec(cpu.server), sec(cpu.postgres), sec(Math.max(0, otherCpu(cpu))), sec(cpu.iowait),
      perEvent(cpu.server), perEvent(cpu.postgres), k === "f" ? "–" : fmtInt(p[k].walBytes / result.events), fmtInt(tx), tx ? fmtInt(result.events / tx) : "–",
    ];
  });
  const about = `PostgreSQL ${db.serverVersion} (${db.mode}; fsync=${db.settings.fsync}, synchronous_commit=${db.settings.synchronous_commit}), Node.js ${machine.node}, ${machine.cpus} CPUs, ${machine.memoryGiB.toFixed(1)} GiB, 1-minute load average ${machine.load1} before the run and ${machineLoad().load1} after`;
  const whatIf = (config.dropIndexes.length ? `\nWHAT-IF RUN, not the shipped schema: dropped ${config.dropIndexes.join(", ")}\n` : "")
    + (config.searchIndexMaxDeferred === undefined ? "" : `\nserver setting: TRAILKEEPER_SEARCH_INDEX_MAX_DEFERRED=${config.searchIndexMaxDeferred}\n`);
  const older = `(a) / (c) = ${fmtRatio(rate(p.a.result) / rate(p.c.result))} (COPY into the indexed table); (b) / (d) = ${fmtRatio(rate(p.b.result) / rate(p.d.result))} (single-row autocommit INSERT, issue 2's yardsticks)`;
  process.stdout.write(`\nIngestion benchmark — ${about}\n${whatIf}\n${table(header, rows)}\n\n${older}\nsearch index (ADR 9) caught up ${catchUp.a.toFixed(1)} s after (a) ended (writing ${fmtInt(catchUp.indexerWalA / p.a.result.events)} B of WAL per event of (a) meanwhile) and ${catchUp.b.toFixed(1)} s after (b) ended\n(g) / (e) = ${fmtRatio(ratioG)}: ${config.tenants} tenants' appends in parallel backends against one tenant's in (a) (${fmtRatio(rate(p.g.result) / rate(p.a.result))} × (a))\n\nCPU time per phase (where the time goes; the machine has ${machine.cpus} CPUs, so wall × ${machine.cpus} CPU-seconds were available)\n${table(cpuHeader, cpuRows)}\n`);
  process.stdout.write(`\nchains verified: every tenant's row count, gapless seq from 1 and chain head; for (a), (b), (g) and the warm-up also every hash and link.\n`);
  process.stdout.write(`targets: (a) ≥ ${targets.batchVsKeyOnly} × key-only COPY: ${met(ratioA, targets.batchVsKeyOnly)}; (b) ≥ ${targets.singleVsNoop} × no-op POST: ${met(ratioB, targets.singleVsNoop)}\n`);
  const busyElsewhere = phaseKeys
    .map((k) => [k, otherCpu(p[k].cpu) / (p[k].result.seconds * machine.cpus)] as const)
    .filter(([, share]) => share > 0.1);
  if (busyElsewhere.length) {
    const list = busyElsewhere.map(([k, share]) => `(${k}) ${(100 * share).toFixed(0)}%`).join(", ");
    process.stdout.write(`\nWARNING: other processes used a large share of the CPUs during ${list}: these numbers understate this machine; rerun when it is idle.\n`);
  }
  if (process.env.BENCH_MARKDOWN === "1") process.stdout.write(`\n${markdownTable(header, rows)}\n\n${markdownTable(cpuHeader, cpuRows)}\n`);
  if (process.env.BENCH_RESULTS_JSON) {
    const json = Object.fromEntries(Object.entries(p).map(([k, ph]) => [k, {
      label: ph.label, events: ph.result.events, seconds: ph.result.seconds, eventsPerSecond: rate(ph.result),
      p50Ms: percentile(ph.result.latencies, 50), p99Ms: percentile(ph.result.latencies, 99), cpu: ph.cpu, walBytes: ph.walBytes,
    }]));
    writeFileSync(process.env.BENCH_RESULTS_JSON, `${JSON.stringify({ machine, postgres: db.serverVersion, settings: db.settings, config, phases: json, ratioA, ratioB, searchIndexCatchUpSeconds: catchUp }, null, 2)}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`\n[bench] FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
