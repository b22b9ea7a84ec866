/**
 * Index options for issue 16: what each index design of the events table costs on the append path, measured as
 * COPY FROM STDIN of the same pre-computed rows into copies of `events` (same columns, partitioned by received_at,
 * foreign key to tenants) that differ only in their indexes, interleaved and repeated, each beside the key-only copy
 * of the same round. Then bytes per row, the rate of an asynchronous search indexer, and free-text search latency
 * and matches for substring (trigram) against token semantics (bench/lib/text-search.ts). Not a timed test.
 * `node bench/index-options.ts`; knobs via BENCH_INDEX_* (docs/performance.md, "Index options (issue 16)").
 */
import { loadavg } from "node:os";
import pg from "pg";
import { checkpoint, freshBenchDatabase, type BenchDatabase } from "./lib/database.ts";
import { copyPayload, makeEventInputs, precomputeChain } from "./lib/events.ts";
import { benchFunctionsSql, costedExpressions, indexVariants, sideDocSql, sideTableSql, tokensSql, type IndexVariant, type SideKind } from "./lib/index-variants.ts";
import { copyInto } from "./lib/copy-into.ts";
import { runTextSearch } from "./lib/text-search.ts";
import { fmtInt, fmtRatio, intEnv, markdownTable, table } from "./lib/stats.ts";

const config = {
  rows: intEnv("BENCH_INDEX_ROWS", 30_000),
  rounds: intEnv("BENCH_INDEX_ROUNDS", 3),
  /** Comma-separated variant names (key-only is always measured); unset: all. */
  variants: (process.env.BENCH_INDEX_VARIANTS ?? "").split(",").map((s) => s.trim()).filter(Boolean),
  indexerBatch: intEnv("BENCH_INDEX_INDEXER_BATCH", 10_000),
  /** Rows of the free-text search phase; BENCH_INDEX_SEARCH=0 skips it. */
  searchRows: intEnv("BENCH_INDEX_SEARCH_ROWS", 200_000),
  searchRuns: intEnv("BENCH_INDEX_SEARCH_RUNS", 20),
  search: process.env.BENCH_INDEX_SEARCH !== "0",
};
const tenant = "bench-copy";
const started = performance.now();
const log = (m: string) => process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${m}\n`);
const load1 = () => loadavg()[0]!;

interface Sample {
  variant: string;
  round: number;
  load: number;
  copySeconds: number;
  vacuumSeconds: number;
  /** Rows per second of each asynchronous indexer over the rows just copied. */
  indexers: Record<string, number>;
  /** Rows per second of the key-only copy measured right before this one (for key-only: its own). */
  base: number;
}

const tableOf = (v: IndexVariant) => `bench_${v.name.replace(/-/g, "_")}`;

function selectedVariants(): IndexVariant[] {
  if (!config.variants.length) return indexVariants.filter((v) => !v.optional);
  const unknown = config.variants.filter((n) => !indexVariants.some((v) => v.name === n));
  if (unknown.length) throw new Error(`BENCH_INDEX_VARIANTS: unknown ${unknown.join(", ")}; known: ${indexVariants.map((v) => v.name).join(", ")}`);
  return indexVariants.filter((v) => v.name === "key-only" || config.variants.includes(v.name));
}

/** A fresh, empty copy of events with this variant's indexes: one partition covering every received_at. */
async function createVariantTable(db: BenchDatabase, v: IndexVariant): Promise<string> {
  const t = tableOf(v);
  await db.pool.query(`DROP TABLE IF EXISTS ${t}`);
  await db.pool.query(`CREATE TABLE ${t} (LIKE events INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING CONSTRAINTS) PARTITION BY RANGE (received_at)`);
  await db.pool.query(`CREATE TABLE ${t}_p PARTITION OF ${t} FOR VALUES FROM (MINVALUE) TO (MAXVALUE)`);
  await db.pool.query(`ALTER TABLE ${t} ADD FOREIGN KEY (tenant) REFERENCES tenants (id)`);
  if (v.givenTokens) await db.pool.query(`ALTER TABLE ${t} ADD COLUMN search_tokens tsvector`);
  for (const ix of v.indexes) await db.pool.query(ix.replaceAll("%T", t));
  return t;
}

const copyEscape = (s: string) => s.replace(/[\\\n\r\t]/g, (c) => ({ "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" })[c]!);

/** The payload with each row's tokens appended (bench_search_tokens, computed by PostgreSQL before timing). */
async function withTokens(db: BenchDatabase, plain: Buffer): Promise<Buffer> {
  const t = "bench_tokens_source";
  await db.pool.query(`DROP TABLE IF EXISTS ${t}`);
  await db.pool.query(`CREATE TABLE ${t} (LIKE events INCLUDING DEFAULTS INCLUDING GENERATED)`);
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await copyInto(client, t, plain, config.rows);
  } finally {
    await client.end();
  }
  const tokens = (await db.pool.query<{ v: string }>(`SELECT ${tokensSql}::text AS v FROM ${t} ORDER BY seq`)).rows;
  const lines = plain.toString("utf8").split("\n").slice(0, -1);
  await db.pool.query(`DROP TABLE ${t}`);
  return Buffer.from(lines.map((l, i) => `${l}\t${copyEscape(tokens[i]!.v)}\n`).join(""), "utf8");
}

/** Fills a side table from the rows just copied, in autocommit batches, as an indexer off the append path would. */
async function timeIndexer(db: BenchDatabase, source: string, kind: SideKind): Promise<number> {
  const side = `${source}_side_${kind.replace(/-/g, "_")}`;
  await db.pool.query(`DROP TABLE IF EXISTS ${side}`);
  for (const s of sideTableSql[kind]) await db.pool.query(s.replaceAll("%S", side));
  let from = source;
  let doc = sideDocSql[kind];
  if (kind.endsWith("-given")) {
    // Computed before the clock starts: the documents stand for what the API server would compute and send.
    from = `${side}_given`;
    await db.pool.query(`DROP TABLE IF EXISTS ${from}`);
    await db.pool.query(`CREATE TABLE ${from} AS SELECT tenant, seq, ${doc} AS doc FROM ${source}`);
    doc = "doc";
  }
  await checkpoint(db.pool);
  const t0 = performance.now();
  for (let lo = 0; lo < config.rows; lo += config.indexerBatch) {
    await db.pool.query(
      `INSERT INTO ${side} SELECT tenant, seq, ${doc} FROM ${from} WHERE tenant = $1 AND seq > $2 AND seq <= $3`,
      [tenant, lo, lo + config.indexerBatch],
    );
  }
  return config.rows / ((performance.now() - t0) / 1000);
}

interface Payloads { plain: Buffer; withTokens?: Buffer }

async function measureVariant(db: BenchDatabase, v: IndexVariant, payloads: Payloads, round: number, base?: number): Promise<Sample> {
  const t = await createVariantTable(db, v);
  await checkpoint(db.pool);
  const load = load1();
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  let copySeconds: number;
  try {
    copySeconds = v.givenTokens
      ? await copyInto(client, t, payloads.withTokens!, config.rows, ["search_tokens"])
      : await copyInto(client, t, payloads.plain, config.rows);
  } finally {
    await client.end();
  }
  // VACUUM merges a GIN pending list: work a large pending list only moves off the COPY, to autovacuum.
  const tv = performance.now();
  await db.pool.query(`VACUUM ${t}`);
  const vacuumSeconds = (performance.now() - tv) / 1000;
  const indexers: Record<string, number> = {};
  for (const kind of v.asyncIndexers ?? []) indexers[kind] = await timeIndexer(db, t, kind);
  const s = { variant: v.name, round, load, copySeconds, vacuumSeconds, indexers, base: base ?? config.rows / copySeconds };
  log(`round ${round} ${v.name}: ${fmtInt(config.rows / copySeconds)} rows/s, ${fmtRatio(config.rows / copySeconds / s.base)} key-only (load ${load.toFixed(2)})${Object.entries(indexers).map(([k, r]) => `; ${k} indexer ${fmtInt(r)} rows/s`).join("")}`);
  return s;
}

/**
 * Every variant once per round, each right after a key-only run that is its yardstick (the load of this shared
 * machine drifts within minutes); each round starts one variant later, so none always runs first or last.
 */
async function runRounds(db: BenchDatabase, variants: IndexVariant[], payload: Payloads): Promise<Sample[]> {
  const samples: Sample[] = [];
  const keyOnly = variants.find((v) => v.name === "key-only")!;
  const others = variants.filter((v) => v !== keyOnly);
  for (let r = 1; r <= config.rounds; r++) {
    const k = (r - 1) % others.length;
    for (const v of [...others.slice(k), ...others.slice(0, k)]) {
      const base = await measureVariant(db, keyOnly, payload, r);
      samples.push(base, await measureVariant(db, v, payload, r, config.rows / base.copySeconds));
    }
  }
  return samples;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2 : Number.NaN;
};

function rateTable(variants: IndexVariant[], samples: Sample[]): { header: string[]; rows: string[][] } {
  const rate = (s: Sample) => config.rows / s.copySeconds;
  const withVacuum = (s: Sample) => config.rows / (s.copySeconds + s.vacuumSeconds);
  const header = ["variant", ...Array.from({ length: config.rounds }, (_, i) => `round ${i + 1} rows/s (× key-only)`), "median ×", "median × with VACUUM", "indexer rows/s (× key-only)"];
  const rows = variants.map((v) => {
    const mine = samples.filter((s) => s.variant === v.name);
    const rounds = Array.from({ length: config.rounds }, (_, i) => mine.filter((s) => s.round === i + 1));
    // key-only runs several times a round: its cells show the round's median.
    const cell = (ss: Sample[]) => `${fmtInt(median(ss.map(rate)))} (${fmtRatio(median(ss.map((s) => rate(s) / s.base)))})`;
    const indexers = Object.keys(mine[0]?.indexers ?? {}).map((k) =>
      `${k} ${fmtInt(median(mine.map((s) => s.indexers[k]!)))} (${fmtRatio(median(mine.map((s) => s.indexers[k]! / s.base)))})`);
    return [v.name, ...rounds.map(cell), fmtRatio(median(mine.map((s) => rate(s) / s.base))), fmtRatio(median(mine.map((s) => withVacuum(s) / s.base))), indexers.join("; ")];
  });
  return { header, rows };
}

interface SizeRow { variant: string; heap: number; indexes: { def: string; bytes: number }[] }

/** Table (with TOAST) and each index of the variant's partition, after its last COPY and VACUUM. */
async function sizes(db: BenchDatabase, v: IndexVariant): Promise<SizeRow> {
  const part = `${tableOf(v)}_p`;
  const heap = (await db.pool.query<{ b: string }>("SELECT pg_table_size($1::regclass) AS b", [part])).rows[0]!.b;
  const ix = await db.pool.query<{ def: string; b: string }>(
    "SELECT pg_get_indexdef(indexrelid) AS def, pg_relation_size(indexrelid) AS b FROM pg_index WHERE indrelid = $1::regclass ORDER BY indexrelid",
    [part],
  );
  const short = (def: string) => def.replace(/^.* USING /, "").replace(/trailkeeper_search_text\([^)]*\)/, "search_text");
  return { variant: v.name, heap: Number(heap), indexes: ix.rows.map((r) => ({ def: short(r.def), bytes: Number(r.b) })) };
}

function sizeTable(rows: SizeRow[]): { header: string[]; rows: string[][] } {
  const per = (b: number) => fmtInt(b / config.rows);
  const header = ["variant", "table B/row", "indexes B/row", "total B/row", "largest indexes (B/row)"];
  return {
    header,
    rows: rows.map((r) => {
      const ix = r.indexes.reduce((a, i) => a + i.bytes, 0);
      const largest = [...r.indexes].sort((a, b) => b.bytes - a.bytes).slice(0, 3).map((i) => `${i.def.slice(0, 48)}: ${per(i.bytes)}`);
      return [r.variant, per(r.heap), per(ix), per(r.heap + ix), largest.join("; ")];
    }),
  };
}

async function sideSizes(db: BenchDatabase, variants: IndexVariant[]): Promise<string[]> {
  const out: string[] = [];
  for (const v of variants) {
    for (const kind of v.asyncIndexers ?? []) {
      const side = `${tableOf(v)}_side_${kind.replace(/-/g, "_")}`;
      const b = Number((await db.pool.query<{ b: string }>("SELECT pg_total_relation_size($1::regclass) AS b", [side])).rows[0]!.b);
      out.push(`${side}: ${fmtInt(b / config.rows)} B/row (table, key and GIN)`);
    }
  }
  return out;
}

/** CPU time per row of each index expression alone (best of three full scans of the key-only copy). */
async function expressionCosts(db: BenchDatabase): Promise<string[][]> {
  const t = tableOf(indexVariants[0]!);
  const best = async (expr: string) => {
    let min = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await db.pool.query(`SELECT count(${expr}) FROM ${t}`);
      min = Math.min(min, performance.now() - t0);
    }
    return (min * 1000) / config.rows;
  };
  const scan = await best("1");
  const rows: string[][] = [];
  for (const [label, expr] of costedExpressions) rows.push([label, (await best(expr) - scan).toFixed(1)]);
  return rows;
}

async function main(): Promise<void> {
  const variants = selectedVariants();
  log(`load average before start: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  const db = await freshBenchDatabase();
  try {
    log(`PostgreSQL ${db.serverVersion} (${db.mode}); ${JSON.stringify(db.settings)}`);
    await db.pool.query(benchFunctionsSql);
    await db.pool.query("INSERT INTO tenants (id) VALUES ($1) ON CONFLICT DO NOTHING", [tenant]);
    const plain = copyPayload(precomputeChain(tenant, makeEventInputs(config.rows, 3)));
    const payloads: Payloads = { plain, ...(variants.some((v) => v.givenTokens) ? { withTokens: await withTokens(db, plain) } : {}) };
    log(`${variants.length} variants × ${config.rounds} rounds of ${fmtInt(config.rows)} rows (${fmtInt(plain.length)} bytes of COPY text)`);
    const samples = await runRounds(db, variants, payloads);
    const loads = Array.from({ length: config.rounds }, (_, i) => samples.filter((s) => s.round === i + 1).map((s) => s.load));
    const rates = rateTable(variants, samples);
    const sz = sizeTable(await Promise.all(variants.map((v) => sizes(db, v))));
    const side = await sideSizes(db, variants);
    const costs = await expressionCosts(db);
    const loadLine = loads.map((l, i) => `round ${i + 1}: ${Math.min(...l).toFixed(2)}–${Math.max(...l).toFixed(2)}`).join("; ");
    const out = [
      `\nIndex options — COPY FROM STDIN of ${fmtInt(config.rows)} rows into each variant, ${config.rounds} interleaved rounds; PostgreSQL ${db.serverVersion} (${db.mode}), Node.js ${process.version}`,
      `1-minute load average at each variant's start: ${loadLine}\n`,
      table(rates.header, rates.rows),
      `\nSizes after the last round's COPY and VACUUM (${fmtInt(config.rows)} rows)\n`,
      table(sz.header, sz.rows),
      ...(side.length ? [`\nSide tables of the asynchronous indexers: ${side.join("; ")}`] : []),
      `\nCost of each index expression alone, per row (over the key-only copy, less a bare scan; load average ${loadavg().map((l) => l.toFixed(2)).join(" ")})\n`,
      table(["expression", "µs/row"], costs),
      "\nVariants:",
      ...variants.map((v) => `  ${v.name}: ${v.about}`),
    ];
    process.stdout.write(`${out.join("\n")}\n`);
    if (process.env.BENCH_MARKDOWN === "1") process.stdout.write(`\n${markdownTable(rates.header, rates.rows)}\n\n${markdownTable(sz.header, sz.rows)}\n`);
    if (config.search) await runTextSearch(db, { rows: config.searchRows, runs: config.searchRuns, log });
  } finally {
    await db.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`\n[bench] FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
