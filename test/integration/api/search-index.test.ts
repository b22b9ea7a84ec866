import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApiServer } from "../../../api-server/src/server.ts";
import { SearchIndexer } from "../../../api-server/src/services/search-indexer.ts";
import { indexedThrough, indexSearchStep, windowSeqBound } from "../../../core/src/db/search-index.ts";
import { eventFilterSchema } from "../../../core/src/search/filters.ts";
import { searchQuery } from "../../../core/src/search/query.ts";
import { createPool } from "../../../core/src/db/pool.ts";
import { createLogger, silentLogger } from "../../../core/src/log.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { call, startTestApi, tenantWithKey } from "../../support/api.ts";

// Free text off the append path (ADR 9): documents are written by the search indexer after the append, and a
// search reads them up to the tenant's mark and recomputes the rest. The server's own indexer is held back (one
// round at start, then an hour's pause), so each test decides what is indexed.
let db: TestDatabase;
let api: RunningApiServer;
let writer: string;
let reader: string;
const tenant = "text";

interface Ev {
  seq: number;
  id: string;
  actor: { id: string; name?: string };
  action: string;
}

/** Event i: every third mentions "Needle-<i>" in its details; actors alternate between two named users. */
const event = (i: number) => ({
  actor: { id: `u-${i % 2}`, name: i % 2 ? "Odd One" : "Even One", type: "user" },
  action: i % 5 === 0 ? "secret.reveal" : "resource.update",
  resource: { type: "cluster", id: `c-${i}` },
  outcome: "success",
  occurredAt: new Date(Date.UTC(2026, 10, 1 + (i % 20))).toISOString(),
  details: { note: i % 3 === 0 ? `found Needle-${i} here` : `hay ${i}` },
});

let next = 0;
async function ingest(n: number): Promise<void> {
  const events = Array.from({ length: n }, () => event(next++));
  const res = await call(api.url, "POST", "/v1/events", { token: writer, body: { events } });
  expect(res.status).toBe(201);
}

/** Every page of a search, followed by its cursor. */
async function searchAll(query: string, limit = 7): Promise<Ev[]> {
  const out: Ev[] = [];
  let cursor: string | null = null;
  do {
    const res = await call(api.url, "GET", `/v1/events?limit=${limit}&${query}${cursor ? `&cursor=${cursor}` : ""}`, { token: reader });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const body = res.body as { events: Ev[]; nextCursor: string | null };
    out.push(...body.events);
    cursor = body.nextCursor;
  } while (cursor);
  return out;
}

/** What the filter must return, straight from the table: seqs newest first. */
async function expected(where: string, params: unknown[] = []): Promise<number[]> {
  const rows = await db.pool.query<{ seq: string }>(`SELECT seq FROM events WHERE tenant = $1 AND ${where} ORDER BY seq DESC`, [tenant, ...params]);
  return rows.rows.map((r) => Number(r.seq));
}
const needles = () => expected("details LIKE '%Needle-%'");
const documents = async () => (await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM search_documents WHERE tenant = $1", [tenant])).rows[0]!.n;
const head = async () => Number((await db.pool.query<{ seq: string }>("SELECT seq FROM chain_heads WHERE tenant = $1", [tenant])).rows[0]!.seq);

beforeAll(async () => {
  db = await freshDatabase();
  api = await startTestApi(db, { TRAILKEEPER_SEARCH_INDEX_IDLE_MS: "3600000" });
  writer = await tenantWithKey(api.url, tenant, ["events:write"]);
  reader = await tenantWithKey(api.url, tenant, ["events:read", "events:export"]);
}, 120_000);
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

describe("free text with the search indexer", () => {
  it("finds unindexed events by recomputing their documents, and the same events once indexed", async () => {
    await ingest(90);
    expect(await documents()).toBe(0);
    const want = await needles();
    expect(want).toHaveLength(30);
    const unindexed = (await searchAll("q=needle")).map((e) => e.seq);
    expect(unindexed).toEqual(want);

    await api.searchIndexer.runUntilCurrent();
    expect(await documents()).toBe(await head());
    expect(await indexedThrough(db.pool, tenant)).toBe(await head());
    // Each stored document is exactly what the search recomputes.
    const differing = await db.pool.query(
      `SELECT d.seq FROM search_documents d JOIN events e USING (tenant, seq)
       WHERE d.tenant = $1 AND d.doc IS DISTINCT FROM trailkeeper_search_text(e.action, e.actor_id, e.actor_name, e.resource_type, e.resource_id, e.resource_name, e.details)`,
      [tenant],
    );
    expect(differing.rows).toEqual([]);
    expect((await searchAll("q=needle")).map((e) => e.seq)).toEqual(want);
  });

  it("pages across the mark: indexed and unindexed matches in one newest-first list, with other filters", async () => {
    await api.searchIndexer.runUntilCurrent();
    const mark = await head();
    await ingest(45); // above the mark
    expect(await indexedThrough(db.pool, tenant)).toBe(mark);
    const all = await needles();
    expect(all.some((s) => s > mark) && all.some((s) => s <= mark)).toBe(true);
    for (const limit of [1, 4, 7, 50]) expect((await searchAll("q=needle", limit)).map((e) => e.seq)).toEqual(all);

    // Free text with an id-or-name filter (both are unions of index walks), a category and several terms.
    expect((await searchAll("q=needle&actor=Odd%20One")).map((e) => e.seq)).toEqual(await expected("details LIKE '%Needle-%' AND actor_name = 'Odd One'"));
    expect((await searchAll("q=needle&actor=u-0")).map((e) => e.seq)).toEqual(await expected("details LIKE '%Needle-%' AND actor_id = 'u-0'"));
    expect((await searchAll("q=needle&category=secrets")).map((e) => e.seq)).toEqual(await expected("details LIKE '%Needle-%' AND action LIKE 'secret.%'"));
    expect((await searchAll("q=found%20here%20needle-1")).map((e) => e.seq)).toEqual(await expected("details LIKE '%Needle-1%'"));
    // A time window small enough for the collect-then-order plan.
    const from = "2026-11-03T00:00:00Z";
    const to = "2026-11-05T00:00:00Z";
    expect((await searchAll(`q=needle&from=${from}&to=${to}`)).map((e) => e.seq)).toEqual(
      await expected("details LIKE '%Needle-%' AND occurred_at >= $2 AND occurred_at < $3", [from, to]),
    );
  });

  it("starts a wide time window's walk at the highest seq its indexed events have, and misses none, indexed or not", async () => {
    await api.searchIndexer.runUntilCurrent();
    const mark = await indexedThrough(db.pool, tenant);
    // Per hour of occurredAt, the highest indexed seq (occurredAt cycles over twenty days, so hours recur).
    const buckets = await db.pool.query<{ hour: Date; max_seq: string }>("SELECT hour, max_seq FROM search_time_buckets WHERE tenant = $1 ORDER BY hour", [tenant]);
    const fromEvents = await db.pool.query<{ hour: Date; max_seq: string }>(
      "SELECT date_trunc('hour', occurred_at, 'UTC') AS hour, max(seq) AS max_seq FROM events WHERE tenant = $1 AND seq <= $2 GROUP BY 1 ORDER BY 1",
      [tenant, mark],
    );
    expect(buckets.rows).toEqual(fromEvents.rows);

    await ingest(30); // above the mark, some inside the window
    const from = "2026-11-03T00:00:00Z";
    const to = "2026-11-05T00:00:00Z";
    // Secrets are every fifth event, which occur on the 1st, 6th, 11th and 16th.
    for (const query of [{ from, to }, { from: "2026-11-06T00:00:00Z", to: "2026-11-07T00:00:00Z", category: "secrets" }, { from, to, q: "needle" }, { to: from }]) {
      const filter = eventFilterSchema.parse(query);
      const marks = { indexedThrough: mark, windowThrough: await windowSeqBound(db.pool, tenant, filter.from, filter.to) };
      const conds = ["occurred_at < $2", ...(filter.from ? ["occurred_at >= $3"] : []), ...(query.category ? ["action LIKE 'secret.%'"] : []), ...(query.q ? ["details LIKE '%Needle-%'"] : [])];
      const want = await expected(conds.join(" AND "), [filter.to, ...(filter.from ? [filter.from] : [])]);
      expect(want.some((s) => s > mark) && want.some((s) => s <= mark), JSON.stringify(query)).toBe(true);
      expect(marks.windowThrough).toBe(Math.max(...(await expected(conds.slice(0, filter.from ? 2 : 1).join(" AND "), [filter.to, ...(filter.from ? [filter.from] : [])])).filter((s) => s <= mark)));
      // The plan for windows too wide to collect and sort (isNarrowWindow false), page by page.
      const got: number[] = [];
      let before: number | undefined;
      for (;;) {
        const q = searchQuery(tenant, filter, 6, before, false, marks);
        const rows = (await db.pool.query<{ seq: string }>(q.text, q.values)).rows.map((r) => Number(r.seq));
        got.push(...rows.slice(0, 5));
        if (rows.length <= 5) break;
        before = rows[4];
      }
      expect(got, JSON.stringify(query)).toEqual(want);
    }
  });

  it("exports exactly the matches, in chain order, on both sides of the mark", async () => {
    const mark = await indexedThrough(db.pool, tenant);
    expect(await head()).toBeGreaterThan(mark);
    for (const format of ["jsonl", "csv"]) {
      const before = await head();
      const res = await fetch(`${api.url}/v1/events/export?format=${format}&q=needle`, { headers: { authorization: `Bearer ${reader}` } });
      expect(res.status).toBe(200);
      const text = await res.text();
      const seqs = format === "jsonl"
        ? text.trim().split("\n").map((l) => (JSON.parse(l) as { seq: number }).seq)
        : [...text.matchAll(/^[^,\r\n]*,(\d+),/gm)].map((m) => Number(m[1]));
      // The export's own opening record (its details name the filter, "needle") is part of the snapshot it reads.
      expect(Math.max(...seqs)).toBeGreaterThan(before);
      expect(seqs, format).toEqual((await expected("lower(details) LIKE '%needle%' AND seq <= $2", [Math.max(...seqs)])).reverse());
    }
  });

  it("indexes in batches, round-robin over tenants, reporting the lag; a second indexer at the same time does nothing twice", async () => {
    await api.searchIndexer.runUntilCurrent();
    await ingest(25);
    const lags: number[] = [];
    const indexed: number[] = [];
    const indexer = new SearchIndexer({ pool: db.pool, log: silentLogger, idleMs: 10, batch: 10, onLag: (n) => lags.push(n), onIndexed: (n) => indexed.push(n) });
    expect(await indexer.runRound()).toBe(15);
    expect(await indexer.runRound()).toBe(5);
    expect(await indexer.runRound()).toBe(0);
    expect(lags).toEqual([15, 5, 0]);
    expect(indexed).toEqual([10, 10, 5]);
    expect(await documents()).toBe(await head());

    // Two steps at once on the same tenant: one writes, the other finds it held and writes nothing.
    await ingest(12);
    const steps = await Promise.all([indexSearchStep(db.pool, tenant, 100), indexSearchStep(db.pool, tenant, 100)]);
    expect(steps.map((s) => s.indexed).sort()).toEqual([0, 12]);
    expect(await documents()).toBe(await head());
  });

  it("logs a round that cannot reach the database once, retries it, never throws; the metrics show the server's rounds", async () => {
    const lines: string[] = [];
    const log = createLogger("warn", {}, (l) => lines.push(l));
    const dead = createPool("postgres://nobody@127.0.0.1:1/none", { max: 1 });
    const indexer = new SearchIndexer({ pool: dead, log, idleMs: 5 });
    indexer.start();
    await new Promise((r) => setTimeout(r, 300));
    await indexer.stop();
    await dead.end();
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(["search indexing failed; retrying"]);

    await ingest(8);
    await api.searchIndexer.runUntilCurrent();
    expect(await documents()).toBe(await head());
    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    expect(metrics).toMatch(/^trailkeeper_search_index_lag_events 0$/m);
    // The server's own indexer wrote every document of this tenant (the test's extra indexers wrote 37 of them).
    expect(Number(/^trailkeeper_search_documents_indexed_total (\d+)$/m.exec(metrics)?.[1])).toBe((await documents()) - 37);
  });

  it("yields to a burst of appends, but keeps pace with appends that go on for longer than maxDeferredMs", async () => {
    await api.searchIndexer.runUntilCurrent();
    // Appends that never stop (the counter moves between any two rounds); 60 events arrive once they have begun.
    const run = async (maxDeferredMs: number) => {
      let appended = 0;
      const ticker = setInterval(() => void appended++, 5);
      const indexer = new SearchIndexer({ pool: db.pool, log: silentLogger, idleMs: 50, batch: 100, deferredBatch: 1, maxDeferred: 1_000_000, maxDeferredMs, appended: () => appended });
      indexer.start();
      const at = async (ms: number) => {
        await new Promise((r) => setTimeout(r, ms));
        return (await indexedThrough(db.pool, tenant)) - from;
      };
      let from = 0;
      try {
        await at(120);
        from = await indexedThrough(db.pool, tenant);
        await ingest(60);
        const early = await at(300);
        const late = await at(1200);
        return { early, late };
      } finally {
        clearInterval(ticker);
        await indexer.stop();
        await api.searchIndexer.runUntilCurrent();
      }
    };
    // A burst (appends for less than maxDeferredMs): one document per pause, the rest deferred.
    const burst = await run(60_000);
    expect(burst.early).toBeLessThanOrEqual(8);
    expect(burst.late).toBeLessThan(40);
    // A sustained load: after maxDeferredMs the indexer catches up although appends go on.
    const sustained = await run(600);
    expect(sustained.early).toBeLessThanOrEqual(8);
    expect(sustained.late).toBe(60);
  });
});
