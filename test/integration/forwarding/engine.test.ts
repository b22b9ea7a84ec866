import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenant } from "../../../core/src/db/event-store.ts";
import { inTransaction, type Pool } from "../../../core/src/db/pool.ts";
import type { StoredEvent } from "../../../core/src/events/model.ts";
import { DeliveryError } from "../../../core/src/forwarding/classify.ts";
import { Forwarder, type DeliveryTuning } from "../../../core/src/forwarding/forwarder.ts";
import { AppendNotifier } from "../../../core/src/forwarding/notifier.ts";
import { loadCursor, rewindCursor } from "../../../core/src/forwarding/store.ts";
import type { EventSender, ItemOutcome, SendOutcome } from "../../../core/src/forwarding/types.ts";
import { silentLogger } from "../../../core/src/log.ts";
import { bulkAppend } from "../../support/bulk.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";

let db: TestDatabase;
let notifier: AppendNotifier;

beforeAll(async () => {
  db = await freshDatabase();
  notifier = new AppendNotifier(db.url, silentLogger);
  await notifier.start();
});
afterAll(async () => {
  await notifier?.stop();
  await db?.drop();
});

/** A scripted peer: records what it was sent and answers from a script (default: all delivered). */
class ScriptedPeer implements EventSender {
  readonly limits = { maxEvents: 1000, maxBytes: 1_000_000 };
  readonly received: StoredEvent[] = [];
  requests = 0;
  script: (batch: readonly StoredEvent[]) => SendOutcome | Error = (b) => ({ items: b.map(() => ({ status: "delivered" as const })) });
  encodedSize = (e: StoredEvent) => JSON.stringify(e).length;
  /** Answer this late (a slow destination that holds the forwarder's round). */
  delayMs = 0;
  async send(batch: readonly StoredEvent[]): Promise<SendOutcome> {
    this.requests += 1;
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    const answer = this.script(batch);
    if (answer instanceof Error) throw answer;
    answer.items.forEach((item: ItemOutcome, i) => item.status === "delivered" && this.received.push(batch[i]!));
    return answer;
  }
  async close(): Promise<void> {}
}

const tuning: DeliveryTuning = { batchSize: 100, batchBytes: 1_000_000, maxBackoffMs: 200, onPermanentError: "deadLetter" };
let n = 0;
async function setup(opts: { filter?: { categories?: string[]; actions?: string[] }; tuning?: Partial<DeliveryTuning>; pollIntervalMs?: number; pool?: Pool; notified?: boolean } = {}) {
  const tenant = `fw${++n}`;
  await inTransaction(db.pool, (c) => createTenant(c, tenant));
  await bulkAppend(db.pool, tenant, 10); // history before the destination exists: not forwarded
  const peer = new ScriptedPeer();
  const uid = randomUUID();
  const make = () =>
    new Forwarder({ pool: opts.pool ?? db.pool, uid, tenant, resource: `ns/${tenant}`, filter: (opts.filter ?? {}) as never, sender: peer, tuning: { ...tuning, ...opts.tuning }, log: silentLogger, pollIntervalMs: opts.pollIntervalMs ?? 200 });
  const fwd = make();
  const unsubscribe = opts.notified === false ? () => {} : notifier.subscribe(tenant, () => fwd.wake());
  fwd.start();
  await until(async () => (await loadCursor(db.pool, uid)) !== undefined);
  return { tenant, peer, uid, fwd, make, unsubscribe };
}

async function until(cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

const seqs = (events: readonly StoredEvent[]) => events.map((e) => e.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("Forwarder", () => {
  it("starts at the head, then delivers every new event in seq order exactly once", async () => {
    const { tenant, peer, uid, fwd } = await setup();
    await bulkAppend(db.pool, tenant, 250, 50);
    await until(() => peer.received.length >= 250);
    expect(seqs(peer.received)).toEqual(range(11, 260));
    await until(async () => (await loadCursor(db.pool, uid))!.cursorSeq === 260);
    expect((await loadCursor(db.pool, uid))!.delivered).toBe(250);
    await fwd.stop();
  });

  it("holds its cursor while the destination is down and catches up without loss", async () => {
    const { tenant, peer, uid, fwd } = await setup();
    peer.script = () => new DeliveryError("retryable", "connection refused");
    await bulkAppend(db.pool, tenant, 40);
    await until(() => peer.requests >= 3);
    expect((await loadCursor(db.pool, uid))!.cursorSeq).toBe(10);
    expect(fwd.stats.state).toBe("backoff");
    expect(fwd.stats.lastError).toBe("connection refused");
    // Lag: all 40 events, the oldest waiting since it was appended.
    await new Promise((r) => setTimeout(r, 300));
    expect(fwd.stats.lagEvents).toBe(40);
    expect(fwd.stats.lagSeconds).toBeGreaterThan(0.2);
    peer.script = (b) => ({ items: b.map(() => ({ status: "delivered" as const })) });
    await until(() => peer.received.length >= 40);
    expect(seqs(peer.received)).toEqual(range(11, 50));
    expect((await loadCursor(db.pool, uid))!.failedAttempts).toBeGreaterThanOrEqual(3);
    await until(() => fwd.stats.lagEvents === 0);
    expect(fwd.stats.lagSeconds).toBe(0);
    await fwd.stop();
  });

  it("dead-letters a permanently rejected event found by bisecting, and carries on", async () => {
    const { tenant, peer, uid, fwd } = await setup();
    peer.script = (b) => (b.some((e) => e.seq === 23) ? new DeliveryError("permanent", "HTTP 400: bad event", { status: 400 }) : { items: b.map(() => ({ status: "delivered" as const })) });
    await bulkAppend(db.pool, tenant, 30);
    await until(async () => (await loadCursor(db.pool, uid))!.cursorSeq === 40);
    expect(seqs(peer.received)).toEqual(range(11, 40).filter((s) => s !== 23));
    const dead = (await db.pool.query("SELECT seq, reason FROM dead_letters WHERE destination_uid = $1", [uid])).rows;
    expect(dead).toEqual([{ seq: 23, reason: "HTTP 400: bad event" }]);
    expect(fwd.stats.deadLettered).toBe(1);
    await fwd.stop();
  });

  it("retries only what the destination asked to retry, honouring Retry-After", async () => {
    const { tenant, peer, fwd } = await setup();
    let first = true;
    const times: number[] = [];
    peer.script = (b) => {
      times.push(Date.now());
      if (first) {
        first = false;
        return { items: b.map((e) => (e.seq < 15 ? { status: "delivered" as const } : { status: "retry" as const, reason: "429" })), retryAfterMs: 150 };
      }
      return { items: b.map(() => ({ status: "delivered" as const })) };
    };
    await bulkAppend(db.pool, tenant, 10);
    await until(() => peer.received.length >= 10);
    expect(seqs(peer.received)).toEqual(range(11, 20));
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(140);
    await fwd.stop();
  });

  it("pauses on a rejected event when onPermanentError is pause", async () => {
    const { tenant, peer, uid, fwd } = await setup({ tuning: { onPermanentError: "pause" } });
    peer.script = (b) => ({ items: b.map((e) => (e.seq === 13 ? { status: "rejected" as const, reason: "mapping conflict" } : { status: "delivered" as const })) });
    await bulkAppend(db.pool, tenant, 5);
    await until(() => fwd.stats.state === "paused");
    // 14 and 15 reached the peer in the same request; they will be sent again after the pause (at least once).
    expect(seqs(peer.received).slice(0, 2)).toEqual([11, 12]);
    expect((await loadCursor(db.pool, uid))!.cursorSeq).toBe(12);
    expect(fwd.stats.lastError).toMatch(/seq 13 rejected: mapping conflict/);
    await fwd.stop();
  });

  it("stops for good when the destination is gone", async () => {
    const { tenant, peer, fwd } = await setup();
    peer.script = () => new DeliveryError("gone", "HTTP 410", { status: 410 });
    await bulkAppend(db.pool, tenant, 3);
    await until(() => fwd.stats.state === "gone");
    expect(peer.requests).toBe(1);
    await fwd.stop();
  });

  it("forwards only events that pass both filter lists, and moves its cursor past the others", async () => {
    const { tenant, peer, uid, fwd } = await setup({ filter: { categories: ["auth", "secrets"], actions: ["auth.login", "secret.*"] } });
    await bulkAppend(db.pool, tenant, 80);
    await until(async () => (await loadCursor(db.pool, uid))!.cursorSeq === 90);
    // bulkAppend cycles 8 actions; auth.logout is in a listed category but not a listed action.
    expect(new Set(peer.received.map((e) => e.action))).toEqual(new Set(["auth.login", "secret.reveal"]));
    expect(peer.received.length).toBe(20);
    await fwd.stop();
  });

  it("resumes from the durable cursor after a restart, and replays from a seq", async () => {
    const { tenant, peer, uid, fwd, make, unsubscribe } = await setup();
    await bulkAppend(db.pool, tenant, 20);
    await until(() => peer.received.length >= 20);
    await fwd.stop();
    unsubscribe();
    await bulkAppend(db.pool, tenant, 5);
    const again = make();
    again.start();
    await until(() => peer.received.length >= 25);
    expect(seqs(peer.received)).toEqual(range(11, 35));
    await again.stop();
    await rewindCursor(db.pool, uid, 30);
    const replay = make();
    replay.start();
    await until(() => peer.received.length >= 30);
    expect(seqs(peer.received.slice(25))).toEqual(range(31, 35));
    await replay.stop();
  });

  it.each([
    ["delivers new events on the append notification, long before its poll", true],
    ["without notifications, waits for its poll (the control for the case above)", false],
  ] as const)("%s", async (_name, notified) => {
    const { tenant, peer, fwd } = await setup({ pollIntervalMs: 60_000, notified });
    await new Promise((r) => setTimeout(r, 300)); // its first round (nothing to send) is over: it sleeps
    await bulkAppend(db.pool, tenant, 5);
    if (notified) {
      await until(() => peer.received.length >= 5, 3000);
      expect(seqs(peer.received)).toEqual(range(11, 15));
    } else {
      await new Promise((r) => setTimeout(r, 1500));
      expect(peer.received).toEqual([]);
    }
    await fwd.stop();
  });

  it("does not lose a wake-up that arrives after a round read nothing and before it sleeps", async () => {
    // The pool seen by the forwarder lets the test act at one exact point: after the round's head query has
    // answered "nothing new", events are committed and the append's notification arrives (wake()), while the
    // forwarder is still busy with that round. It must not then sleep through its (here one-minute) poll.
    let inject: (() => Promise<void>) | undefined;
    const pool = new Proxy(db.pool, {
      get(target, prop) {
        if (prop === "query") {
          return async (...args: Parameters<Pool["query"]>) => {
            const result = await (target.query as (...a: unknown[]) => Promise<unknown>)(...args);
            const text = typeof args[0] === "string" ? args[0] : "";
            if (inject && text.includes("FROM chain_heads WHERE tenant")) { // readAfter's head query
              const act = inject;
              inject = undefined;
              await act();
            }
            return result;
          };
        }
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const { tenant, peer, fwd } = await setup({ pollIntervalMs: 60_000, pool, notified: false });
    let injected = false;
    inject = async () => {
      await bulkAppend(db.pool, tenant, 5);
      fwd.wake();
      injected = true;
    };
    fwd.wake(); // start a round now (the forwarder is asleep after its first one)
    await until(() => injected);
    const started = Date.now();
    await until(() => peer.received.length >= 5, 5_000);
    expect(Date.now() - started).toBeLessThan(3000);
    await fwd.stop();
  });

  it("stops promptly when stopped in the middle of a round", async () => {
    const { tenant, peer, fwd } = await setup({ pollIntervalMs: 60_000 });
    peer.delayMs = 300;
    await bulkAppend(db.pool, tenant, 1);
    await until(() => peer.requests >= 1);
    const started = Date.now();
    await fwd.stop();
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
