import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenant } from "../../../core/src/db/event-store.ts";
import { inTransaction } from "../../../core/src/db/pool.ts";
import type { StoredEvent } from "../../../core/src/events/model.ts";
import { Forwarder } from "../../../core/src/forwarding/forwarder.ts";
import { acquireCursor, loadCursor, releaseCursor, renewCursors } from "../../../core/src/forwarding/store.ts";
import { allDelivered, type EventSender, type SendOutcome } from "../../../core/src/forwarding/types.ts";
import { silentLogger } from "../../../core/src/log.ts";
import { bulkAppend } from "../../support/bulk.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";

/** Forwarding across replicas: the database hold on a delivery cursor (docs/operator.md, "Forwarding across replicas"). */
let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  await db?.drop();
});

let n = 0;
async function destination() {
  const tenant = `own${++n}`;
  await inTransaction(db.pool, (c) => createTenant(c, tenant));
  return { tenant, uid: randomUUID(), resource: `ns/${tenant}` };
}

const owner = async (uid: string) => (await db.pool.query<{ owner: string | null }>("SELECT owner FROM delivery_cursors WHERE destination_uid = $1", [uid])).rows[0]?.owner;

/** A destination that acknowledges everything, each batch only when `gate` opens (a batch held in flight). */
class GatedPeer implements EventSender {
  readonly limits = { maxEvents: 1000, maxBytes: 1_000_000 };
  readonly received: StoredEvent[] = [];
  gate: Promise<void> = Promise.resolve();
  encodedSize = (e: StoredEvent) => JSON.stringify(e).length;
  async send(batch: readonly StoredEvent[]): Promise<SendOutcome> {
    await this.gate;
    this.received.push(...batch);
    return allDelivered(batch.length);
  }
  async close(): Promise<void> {}
}

async function until(cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("delivery cursor holds", () => {
  it("grants a cursor to one replica at a time until it is released", async () => {
    const d = await destination();
    expect(await acquireCursor(db.pool, d.uid, d.tenant, d.resource, "op-a", 60_000)).toBe(true);
    expect(await acquireCursor(db.pool, d.uid, d.tenant, d.resource, "op-b", 60_000)).toBe(false);
    // Taking it again and renewing are the holder's alone.
    expect(await acquireCursor(db.pool, d.uid, d.tenant, d.resource, "op-a", 60_000)).toBe(true);
    expect(await renewCursors(db.pool, "op-a", [d.uid], 60_000)).toEqual(new Set([d.uid]));
    expect(await renewCursors(db.pool, "op-b", [d.uid], 60_000)).toEqual(new Set());
    await releaseCursor(db.pool, d.uid, "op-b");
    expect(await owner(d.uid)).toBe("op-a");
    await releaseCursor(db.pool, d.uid, "op-a");
    expect(await acquireCursor(db.pool, d.uid, d.tenant, d.resource, "op-b", 60_000)).toBe(true);
    expect(await owner(d.uid)).toBe("op-b");
  });

  it("lets another replica take a hold that was not renewed within its lease, measured by the database's clock", async () => {
    const d = await destination();
    expect(await acquireCursor(db.pool, d.uid, d.tenant, d.resource, "op-a", 300)).toBe(true);
    expect(await acquireCursor(db.pool, d.uid, d.tenant, d.resource, "op-b", 300)).toBe(false);
    await until(() => acquireCursor(db.pool, d.uid, d.tenant, d.resource, "op-b", 60_000));
    expect(await renewCursors(db.pool, "op-a", [d.uid], 300)).toEqual(new Set());
  });

  it("fences a forwarder whose hold was taken: its in-flight batch is not committed and it stops", async () => {
    const d = await destination();
    expect(await acquireCursor(db.pool, d.uid, d.tenant, d.resource, "op-a", 200)).toBe(true);
    const peer = new GatedPeer();
    let open!: () => void;
    peer.gate = new Promise((resolve) => (open = resolve));
    const tuning = { batchSize: 10, batchBytes: 1_000_000, maxBackoffMs: 200, onPermanentError: "deadLetter" as const };
    const stale = new Forwarder({ pool: db.pool, uid: d.uid, tenant: d.tenant, resource: d.resource, filter: {}, sender: peer, tuning, log: silentLogger, pollIntervalMs: 50, owner: "op-a" });
    stale.start();
    const start = (await loadCursor(db.pool, d.uid))!.cursorSeq;
    await bulkAppend(db.pool, d.tenant, 25);
    stale.wake();
    // op-a stops renewing (a partition): op-b takes the cursor while op-a's first batch is still in flight.
    await until(() => acquireCursor(db.pool, d.uid, d.tenant, d.resource, "op-b", 60_000));
    open();
    await until(() => stale.stats.state === "stopped");
    expect(peer.received.length).toBeLessThanOrEqual(tuning.batchSize);
    expect((await loadCursor(db.pool, d.uid))!.cursorSeq).toBe(start);
    expect(stale.stats.lastError).toMatch(/taken over by another process/);
    await stale.stop();

    // The new holder resumes from the untouched cursor: the fenced batch is the only repeat.
    const next = new GatedPeer();
    const fresh = new Forwarder({ pool: db.pool, uid: d.uid, tenant: d.tenant, resource: d.resource, filter: {}, sender: next, tuning, log: silentLogger, pollIntervalMs: 50, owner: "op-b" });
    fresh.start();
    await until(() => next.received.length === 25);
    await fresh.stop();
    expect(next.received.map((e) => e.seq)).toEqual(Array.from({ length: 25 }, (_, i) => start + 1 + i));
    expect((await loadCursor(db.pool, d.uid))!.cursorSeq).toBe(start + 25);
  });
});
