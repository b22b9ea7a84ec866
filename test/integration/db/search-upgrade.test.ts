import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenant } from "../../../core/src/db/event-store.ts";
import { migrate } from "../../../core/src/db/migrate.ts";
import { inTransaction } from "../../../core/src/db/pool.ts";
import { indexedThrough, indexSearchStep } from "../../../core/src/db/search-index.ts";
import { eventFilterSchema } from "../../../core/src/search/filters.ts";
import { exportQuery, searchEvents } from "../../../core/src/search/query.ts";
import { databaseBefore } from "../../support/migrations.ts";
import { appendReceivedAt } from "../../support/received-at.ts";

// An installation of the release before ADR 9: events (some in the table partitioned by migration 0015, some in
// a monthly partition) and the trigram index on events. After migration 0016 free text must find the same events
// before the search indexer has written a single document, while it works through them, and after.
describe("moving free text off the append path (migration 0016) on an existing installation", () => {
  let db: Awaited<ReturnType<typeof databaseBefore>>;
  const tenant = "legacy";
  const found = async (q: string) => {
    const out: number[] = [];
    let before: number | undefined;
    for (;;) {
      const page = await searchEvents(db.pool, tenant, eventFilterSchema.parse({ q }), 7, before);
      out.push(...page.events.map((e) => e.seq));
      if (page.nextBeforeSeq === null) return out;
      before = page.nextBeforeSeq;
    }
  };
  const exported = async (q: string) => {
    const e = exportQuery(tenant, eventFilterSchema.parse({ q }), 1_000_000);
    return (await db.pool.query<{ seq: number }>(e.text, e.values)).rows.map((r) => Number(r.seq));
  };
  // Sample events name their resource c-<counter>; nothing else in their searchable text contains "c-".
  const expected = async (term: string) =>
    (await db.pool.query<{ seq: string }>("SELECT seq FROM events WHERE tenant = $1 AND resource_id LIKE $2 ORDER BY seq DESC", [tenant, `%${term}%`])).rows.map((r) => Number(r.seq));

  beforeAll(async () => {
    db = await databaseBefore("0016");
    await inTransaction(db.pool, (c) => createTenant(c, tenant));
    await appendReceivedAt(db.pool, tenant, 30, "2026-10-03T08:00:00Z");
    await appendReceivedAt(db.pool, tenant, 25, new Date().toISOString());
    expect(await migrate(db.pool)).toEqual(["0016_search_off_the_append_path"]);
  }, 120_000);
  afterAll(async () => db?.drop());

  it("drops the append path's text, category and GiST indexes everywhere, and keeps the b-trees search needs", async () => {
    const indexes = (await db.pool.query<{ def: string }>(
      "SELECT indexdef AS def FROM pg_indexes WHERE tablename = 'events' OR tablename LIKE 'events\\_%' ESCAPE '\\'",
    )).rows.map((r) => r.def);
    expect(indexes.filter((d) => /gin_trgm_ops|gist|\(tenant, category, seq\)/.test(d))).toEqual([]);
    for (const column of ["action text_pattern_ops", "actor_id", "actor_name", "resource_type", "resource_id", "resource_name", "occurred_at", "client_inet"]) {
      expect(indexes.some((d) => d.startsWith("CREATE INDEX events_") && d.includes(`(tenant, ${column}`)), column).toBe(true);
    }
  });

  it("finds the same events before, during and after the indexer's back-fill", async () => {
    const want = await expected("c-1");
    expect(want.length).toBeGreaterThan(1);
    expect(want.length).toBeLessThan(55);

    expect(await indexedThrough(db.pool, tenant)).toBe(0);
    expect(await found("c-1")).toEqual(want);
    expect(await exported("c-1")).toEqual([...want].reverse());

    expect(await indexSearchStep(db.pool, tenant, 20)).toEqual({ indexed: 20, behind: 35 });
    expect(await found("c-1")).toEqual(want);
    expect(await exported("c-1")).toEqual([...want].reverse());

    while ((await indexSearchStep(db.pool, tenant, 20)).behind > 0);
    expect(await indexedThrough(db.pool, tenant)).toBe(55);
    expect(await found("c-1")).toEqual(want);
    expect(await exported("c-1")).toEqual([...want].reverse());
  });
});
