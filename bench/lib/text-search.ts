/**
 * Free-text search on the same rows under four semantics (bench/index-options.ts, issue 16): today's substring
 * match served by the trigram GIN index; the same over the raw text (details as stored JSON); and two token
 * indexes queried by prefix (`:*`), words and their alphanumeric parts (bench_search_tokens) and
 * to_tsvector('simple', …) with PostgreSQL's default parser.
 */
import { loadavg } from "node:os";
import pg from "pg";
import { eventSelectList } from "../../core/src/db/event-rows.ts";
import { eventInputSchema, toPendingEvent } from "../../core/src/events/model.ts";
import { extendChain, genesisHash, type ChainHead } from "../../core/src/events/chain.ts";
import { uuidv7 } from "../../core/src/ids.ts";
import { likeEscape, searchTextSql } from "../../core/src/search/filters.ts";
import type { BenchDatabase } from "./database.ts";
import { copyInto } from "./copy-into.ts";
import { copyPayload, makeEventInputs } from "./events.ts";
import { rawTextSql, simpleSql, tokensSql } from "./index-variants.ts";
import { fmtInt, fmtMs, markdownTable, percentile, table } from "./stats.ts";

const tenant = "bench-search";
const searchTable = "bench_search";
type Semantics = "substring" | "raw" | "tokens" | "simple";
const semantics: readonly Semantics[] = ["substring", "raw", "tokens", "simple"];

/**
 * A term as a tsquery of the words-and-parts index: any word or word part that starts with the term. A term with
 * punctuation (`payments-1`) thus matches the start of a whole word; its parts are not tried on their own, because
 * short parts (`1`) are in most events and would make the index scan as slow as no index.
 */
export function tokensQuery(term: string): string {
  return `'${term.replace(/'/g, "''")}':*`;
}

/**
 * The WHERE condition (besides the tenant) and its parameters from $2 on, for one lower-case term. Every word and
 * word part is a substring of the search text, so a token match is also a substring match and needs no recheck;
 * the default parser's phrase for a term with punctuation (`'payments':* <-> '-1':*`) is not, hence hits can differ.
 */
function condition(kind: Semantics, term: string): { sql: string; values: unknown[] } {
  const like = `%${likeEscape(term)}%`;
  if (kind === "substring") return { sql: `${searchTextSql} LIKE $2`, values: [like] };
  if (kind === "raw") return { sql: `${rawTextSql} LIKE $2`, values: [like] };
  if (kind === "tokens") return { sql: `${tokensSql} @@ $2::tsquery`, values: [tokensQuery(term)] };
  return { sql: `${simpleSql} @@ to_tsquery('simple', $2)`, values: [`'${term.replace(/'/g, "''")}':*`] };
}

/** One tenant's rows with their real chain, occurredAt over 30 days, loaded with COPY in chunks (key index only). */
async function generate(db: BenchDatabase, rows: number, log: (m: string) => void): Promise<void> {
  await db.pool.query(`DROP TABLE IF EXISTS ${searchTable}`);
  await db.pool.query(`CREATE TABLE ${searchTable} (LIKE events INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING CONSTRAINTS)`);
  await db.pool.query(`ALTER TABLE ${searchTable} ADD PRIMARY KEY (tenant, seq)`);
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const spanMs = 30 * 86_400_000;
  const end = Date.now();
  let head: ChainHead = { seq: 0, hash: genesisHash };
  try {
    for (let done = 0; done < rows; done += 50_000) {
      const n = Math.min(50_000, rows - done);
      const pending = makeEventInputs(n, 1000 + done).map((input, i) => {
        const at = new Date(end - spanMs + Math.floor(((done + i) / rows) * spanMs));
        return toPendingEvent(eventInputSchema.parse({ ...input, occurredAt: at.toISOString() }), tenant, uuidv7(at.getTime()), at);
      });
      const { events, head: next } = extendChain(head, pending);
      await copyInto(client, searchTable, copyPayload(events), n);
      head = next;
    }
  } finally {
    await client.end();
  }
  log(`search table: ${fmtInt(rows)} rows loaded; building the three text indexes`);
}

async function buildIndexes(db: BenchDatabase): Promise<string[]> {
  const defs: [string, string][] = [
    ["trigram GIN (today)", `(${searchTextSql} gin_trgm_ops)`],
    ["trigram GIN over the raw text", `(${rawTextSql} gin_trgm_ops)`],
    ["GIN over words and parts", `(${tokensSql})`],
    ["GIN over to_tsvector('simple')", `(${simpleSql})`],
  ];
  const out: string[] = [];
  for (const [label, expr] of defs) {
    const t0 = performance.now();
    const name = `${searchTable}_${out.length}`;
    await db.pool.query(`CREATE INDEX ${name} ON ${searchTable} USING gin ${expr}`);
    const bytes = Number((await db.pool.query<{ b: string }>("SELECT pg_relation_size($1::regclass) AS b", [name])).rows[0]!.b);
    out.push(`${label}: built in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${fmtInt(bytes / 2 ** 20)} MiB`);
  }
  await db.pool.query(`VACUUM ANALYZE ${searchTable}`);
  return out;
}

/** Matching rows under each semantics, counted over the whole table. */
async function hits(db: BenchDatabase, term: string): Promise<Record<Semantics, number>> {
  const out = {} as Record<Semantics, number>;
  for (const kind of semantics) {
    const c = condition(kind, term);
    const r = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${searchTable} WHERE tenant = $1 AND ${c.sql}`, [tenant, ...c.values]);
    out[kind] = r.rows[0]!.n;
  }
  return out;
}

/** p50/p95 of the newest page (limit 51, as the API asks for 50) and the plan's scan nodes. */
async function latency(db: BenchDatabase, kind: Semantics, term: string, runs: number): Promise<{ p50: number; p95: number; plan: string }> {
  const c = condition(kind, term);
  const text = `SELECT ${eventSelectList} FROM ${searchTable} WHERE tenant = $1 AND ${c.sql} ORDER BY seq DESC LIMIT 51`;
  const values = [tenant, ...c.values];
  const ms: number[] = [];
  for (let i = 0; i < runs + 3; i++) {
    const t0 = performance.now();
    await db.pool.query(text, values);
    if (i >= 3) ms.push(performance.now() - t0);
  }
  const plan = (await db.pool.query<{ "QUERY PLAN": string }>(`EXPLAIN ${text}`, values)).rows
    .map((r) => r["QUERY PLAN"]).filter((l) => /Scan/.test(l)).map((l) => l.trim().replace(/\s+\(cost.*$/, "").replace(/ on bench_search.*$/, "")).join(" + ");
  return { p50: percentile(ms, 50), p95: percentile(ms, 95), plan };
}

/** How each index splits sample text into tokens. */
async function tokenSamples(db: BenchDatabase): Promise<string[][]> {
  const samples = ["auth.login", "db-prod-1", "10.0.0.1", "2001:db8:ab12::cd34", "0191f3a2-7b3c-7def-8a12-3456789abcde", "user-42", "ops-4242", "prod-eu-west-1"];
  const rows: string[][] = [];
  for (const s of samples) {
    const r = await db.pool.query<{ t: string; s: string }>("SELECT bench_search_tokens($1)::text AS t, to_tsvector('simple', $1)::text AS s", [s]);
    rows.push([s, r.rows[0]!.t, r.rows[0]!.s]);
  }
  return rows;
}

export async function runTextSearch(db: BenchDatabase, o: { rows: number; runs: number; log: (m: string) => void }): Promise<void> {
  o.log(`free-text search: generating ${fmtInt(o.rows)} events`);
  await generate(db, o.rows, o.log);
  const built = await buildIndexes(db);
  const sample = (await db.pool.query<{ d: string }>(`SELECT details AS d FROM ${searchTable} WHERE tenant = $1 AND seq = $2`, [tenant, Math.floor(o.rows / 3)])).rows[0]!.d;
  const trace = (JSON.parse(sample) as { traceId: string }).traceId;
  const queries: [string, string][] = [
    ["a user id", "user-42"],
    ["a rare ticket", "ops-4242"],
    ["digits inside a ticket", "4242"],
    ["a word in details", "maintenance"],
    ["a word of a resource name", "checkout"],
    ["a resource name's start", "payments-1"],
    ["part of a cluster name", "west"],
    ["start of a word", "prod"],
    ["middle of a word", "ments"],
    ["trace id, first 12 hex", trace.slice(0, 12)],
    ["trace id, 12 hex from the middle", trace.slice(6, 18)],
    ["an IP address (not searchable text)", "10.20.30"],
    ["a details key", "namespace"],
  ];
  const header = ["query", "term", "substring hits", "raw hits", "tokens hits", "simple hits", "trigram p50/p95 ms", "raw trigram p50/p95 ms", "tokens p50/p95 ms", "simple p50/p95 ms"];
  const rows: string[][] = [];
  const plans: string[] = [];
  for (const [label, term] of queries) {
    const h = await hits(db, term);
    const lat: string[] = [];
    for (const kind of semantics) {
      const l = await latency(db, kind, term, o.runs);
      lat.push(`${fmtMs(l.p50)} / ${fmtMs(l.p95)}`);
      plans.push(`  ${term} (${kind}): ${l.plan}`);
    }
    rows.push([label, term, fmtInt(h.substring), fmtInt(h.raw), fmtInt(h.tokens), fmtInt(h.simple), ...lat]);
    o.log(`search ${term}: ${lat.join(" | ")}`);
  }
  const tokHeader = ["text", "words and parts (tokens)", "to_tsvector('simple')"];
  const tok = await tokenSamples(db);
  process.stdout.write([
    `\nFree-text search over ${fmtInt(o.rows)} events (one tenant), newest 51 rows, ${o.runs} runs each; load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`,
    `Indexes on the same table: ${built.join("; ")}`,
    "hits: matching events in the whole table. substring: today's (trigram GIN); raw: substring of the raw text (details as stored JSON); tokens and simple: a prefix tsquery ('term':*)\n",
    table(header, rows),
    "\nPlans (scan nodes):",
    ...plans,
    "\nHow the two token indexes split text:\n",
    table(tokHeader, tok),
    "",
  ].join("\n"));
  if (process.env.BENCH_MARKDOWN === "1") process.stdout.write(`\n${markdownTable(header, rows)}\n\n${markdownTable(tokHeader, tok)}\n`);
}
