import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureEventPartitions } from "../../../api-server/src/services/retention.ts";
import { createTenant } from "../../../core/src/db/event-store.ts";
import { migrate } from "../../../core/src/db/migrate.ts";
import { inTransaction } from "../../../core/src/db/pool.ts";
import { assertChainValid } from "../../support/chain-check.ts";
import { databaseBefore } from "../../support/migrations.ts";
import { appendReceivedAt } from "../../support/received-at.ts";

describe("partitioning an existing events table (migration 0015)", () => {
  let db: Awaited<ReturnType<typeof databaseBefore>>;
  beforeAll(async () => {
    db = await databaseBefore("0015");
    await inTransaction(db.pool, (c) => createTenant(c, "legacy"));
    await appendReceivedAt(db.pool, "legacy", 30, "2026-10-03T08:00:00Z");
    await appendReceivedAt(db.pool, "legacy", 20, "2026-12-01T08:00:00Z");
    expect(await migrate(db.pool)).toEqual(expect.arrayContaining(["0015_partitions_and_retention"]));
  }, 120_000);
  afterAll(async () => db?.drop());

  it("keeps every stored event in place, as one partition that ends with the newest event's month", async () => {
    const parts = (await db.pool.query<{ name: string; range_start: Date; range_end: Date }>("SELECT name, range_start, range_end FROM event_partitions ORDER BY range_end")).rows;
    expect(parts[0]).toMatchObject({ name: "events_before_partitioning", range_end: new Date("2027-01-01T00:00:00Z") });
    // Months the old table covers are not created again; the ones after it are.
    expect(parts.slice(1).map((p) => p.name)).toEqual(expect.arrayContaining(["events_y2027m01"]));
    expect(parts.map((p) => p.name)).not.toContain("events_y2026m12");
    const where = (await db.pool.query<{ part: string; n: string }>("SELECT tableoid::regclass::text AS part, count(*)::text AS n FROM events GROUP BY 1")).rows;
    expect(where).toEqual([{ part: "events_before_partitioning", n: "50" }]);
    expect(await assertChainValid(db.pool, "legacy")).toBe(50);
    // The old table's search indexes were attached, not built again under new names.
    const idx = (await db.pool.query<{ n: string }>("SELECT count(*) AS n FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE c.relname LIKE 'events_before_partitioning_%'")).rows[0]!.n;
    expect(Number(idx)).toBeGreaterThanOrEqual(10);
  });

  it("appends after the migration, and keeps the old events append-only", async () => {
    await appendReceivedAt(db.pool, "legacy", 5, new Date().toISOString());
    expect(await assertChainValid(db.pool, "legacy")).toBe(55);
    await expect(db.pool.query("UPDATE events_before_partitioning SET actor_id = 'x' WHERE seq = 1")).rejects.toThrow(/append-only/);
    await expect(db.pool.query("DELETE FROM events_before_partitioning WHERE seq = 1")).rejects.toThrow(/append-only/);
    await expect(db.pool.query("TRUNCATE events_before_partitioning")).rejects.toThrow(/append-only/);
    await expect(db.pool.query("DELETE FROM events WHERE tenant = 'legacy'")).rejects.toThrow(/append-only/);
  });
});

describe("partitions ahead and the default partition", () => {
  let db: Awaited<ReturnType<typeof databaseBefore>>;
  beforeAll(async () => {
    db = await databaseBefore("9999");
    await inTransaction(db.pool, (c) => createTenant(c, "t"));
  }, 120_000);
  afterAll(async () => db?.drop());

  it("creates the months from last month to three ahead, once", async () => {
    const first = await ensureEventPartitions(db.pool, new Date("2027-06-15T00:00:00Z"));
    expect(first).toEqual(["events_y2027m05", "events_y2027m06", "events_y2027m07", "events_y2027m08", "events_y2027m09"]);
    expect(await ensureEventPartitions(db.pool, new Date("2027-06-15T00:00:00Z"))).toEqual([]);
  });

  it("never refuses an event for want of a partition, and leaves a month with default rows to the default partition", async () => {
    await appendReceivedAt(db.pool, "t", 3, "2031-05-05T00:00:00Z");
    expect((await db.pool.query("SELECT 1 FROM events_default WHERE tenant = 't'")).rowCount).toBe(3);
    expect(await ensureEventPartitions(db.pool, new Date("2031-05-20T00:00:00Z"))).not.toContain("events_y2031m05");
    await appendReceivedAt(db.pool, "t", 2, "2031-05-06T00:00:00Z");
    expect((await db.pool.query("SELECT 1 FROM events_default WHERE tenant = 't'")).rowCount).toBe(5);
    expect(await assertChainValid(db.pool, "t")).toBe(5);
    await expect(db.pool.query("TRUNCATE events_default")).rejects.toThrow(/append-only/);
    await expect(db.pool.query("TRUNCATE events_y2031m06")).rejects.toThrow(/append-only/);
  });
});
