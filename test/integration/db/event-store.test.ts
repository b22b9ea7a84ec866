import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { appendAtHead, appendChannel, appendToChainWithHead, createTenant, readAppendHead, type AppendHead } from "../../../core/src/db/event-store.ts";
import { inTransaction } from "../../../core/src/db/pool.ts";
import { eventInputSchema, toPendingEvent, type PendingEvent } from "../../../core/src/events/model.ts";
import { uuidv7 } from "../../../core/src/ids.ts";
import { assertChainValid } from "../../support/chain-check.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const pending = (tenant: string, n: number): PendingEvent[] =>
  Array.from({ length: n }, (_, i) => toPendingEvent(eventInputSchema.parse({ actor: { id: `u${i}`, type: "user" }, action: "resource.update", resource: { type: "r", id: `r${i}` }, details: { i } }), tenant, uuidv7(), new Date()));

const headOf = async (tenant: string): Promise<AppendHead> => (await readAppendHead(db.pool, tenant))!;
const countOf = async (tenant: string) => Number((await db.pool.query("SELECT count(*) AS n FROM events WHERE tenant = $1", [tenant])).rows[0].n);

async function tenantWithEvents(tenant: string, n: number): Promise<AppendHead> {
  await inTransaction(db.pool, (c) => createTenant(c, tenant));
  return (await inTransaction(db.pool, (c) => appendToChainWithHead(c, tenant, pending(tenant, n)))).head;
}

describe("appendAtHead (optimistic append)", () => {
  it("appends at the expected head in one statement, moves the head and announces it", async () => {
    const head = await tenantWithEvents("opt-ok", 3);
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    const notes: string[] = [];
    listener.on("notification", (n) => notes.push(n.payload ?? ""));
    await listener.query(`LISTEN ${appendChannel}`);
    try {
      const done = await appendAtHead(db.pool, "opt-ok", head, pending("opt-ok", 4));
      expect(done?.refs.map((r) => r.seq)).toEqual([4, 5, 6, 7]);
      expect(done?.head).toEqual(await headOf("opt-ok"));
      expect(await assertChainValid(db.pool, "opt-ok")).toBe(7);
      for (let i = 0; i < 50 && notes.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(notes).toEqual(["opt-ok:7"]);
    } finally {
      await listener.end();
    }
  });

  it("writes nothing when the head has moved", async () => {
    const stale = await tenantWithEvents("opt-stale", 2);
    await inTransaction(db.pool, (c) => appendToChainWithHead(c, "opt-stale", pending("opt-stale", 1)));
    const before = await headOf("opt-stale");
    expect(await appendAtHead(db.pool, "opt-stale", stale, pending("opt-stale", 3))).toBeUndefined();
    expect(await headOf("opt-stale")).toEqual(before);
    expect(await countOf("opt-stale")).toBe(3);
    // Same seq, different hash (a head rewritten under the same number) is stale too.
    expect(await appendAtHead(db.pool, "opt-stale", { ...before, hash: "0".repeat(64) }, pending("opt-stale", 1))).toBeUndefined();
    expect(await countOf("opt-stale")).toBe(3);
  });

  it("lets exactly one of two writers with the same expected head win, even when both wait on the head's lock", async () => {
    const head = await tenantWithEvents("opt-race", 1);
    const locker = await db.pool.connect();
    try {
      await locker.query("BEGIN");
      await locker.query("SELECT 1 FROM chain_heads WHERE tenant = 'opt-race' FOR UPDATE");
      const racing = [appendAtHead(db.pool, "opt-race", head, pending("opt-race", 2)), appendAtHead(db.pool, "opt-race", head, pending("opt-race", 3))];
      // Both statements are now blocked on the row lock; releasing it lets them run one after the other.
      let waiting = 0;
      for (let i = 0; i < 50; i++) {
        waiting = Number((await db.pool.query("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")).rows[0].n);
        if (waiting === 2) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(waiting).toBe(2);
      await locker.query("COMMIT");
      const results = await Promise.all(racing);
      expect(results.filter((r) => r !== undefined)).toHaveLength(1);
      const winner = results.find((r) => r !== undefined)!;
      expect(await headOf("opt-race")).toEqual(winner.head);
      expect(await countOf("opt-race")).toBe(1 + winner.refs.length);
      expect(await assertChainValid(db.pool, "opt-race")).toBe(1 + winner.refs.length);
    } finally {
      locker.release();
    }
  });
});
