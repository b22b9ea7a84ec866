import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApiServer } from "../../../api-server/src/server.ts";
import { assertChainValid } from "../../support/chain-check.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { call, sampleEvent, startTestApi, tenantWithKey } from "../../support/api.ts";

let db: TestDatabase;
let a: RunningApiServer;
let b: RunningApiServer;

beforeAll(async () => {
  db = await freshDatabase();
  [a, b] = await Promise.all([startTestApi(db), startTestApi(db)]);
});
afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await db?.drop();
});

const count = async (tenant: string) => Number((await db.pool.query("SELECT count(*) AS n FROM events WHERE tenant = $1", [tenant])).rows[0].n);

describe("POST /v1/events", () => {
  it("stores a single event and answers 201 with id, seq and hash only after commit", async () => {
    const key = await tenantWithKey(a.url, "single", ["events:write"]);
    const res = await call(a.url, "POST", "/v1/events", { token: key, body: sampleEvent({ action: "auth.login", clientIp: "2001:db8::7" }) });
    expect(res.status).toBe(201);
    const [ref] = res.body.events;
    const row = (await db.pool.query("SELECT seq, hash, category, client_ip, outcome FROM events WHERE tenant = 'single' AND id = $1", [ref.id])).rows[0];
    expect(row).toEqual({ seq: ref.seq, hash: ref.hash, category: "auth", client_ip: "2001:db8::7", outcome: "success" });
    expect(ref.seq).toBe(2); // seq 1 is the apikey.create event of the key itself
  });

  it("appends two instances' concurrent requests to one tenant gaplessly with a valid chain", async () => {
    const key = await tenantWithKey(a.url, "concurrent", ["events:write"]);
    const requests = Array.from({ length: 120 }, (_, i) => {
      const server = i % 2 === 0 ? a : b;
      const body = i % 3 === 0 ? { events: [sampleEvent(), sampleEvent(), sampleEvent()] } : sampleEvent();
      return call(server.url, "POST", "/v1/events", { token: key, body });
    });
    const results = await Promise.all(requests);
    expect(results.every((r) => r.status === 201)).toBe(true);
    const refs = results.flatMap((r) => r.body.events as { id: string; seq: number; hash: string }[]);
    expect(refs).toHaveLength(40 * 3 + 80);
    const seqs = refs.map((r) => r.seq).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: refs.length }, (_, i) => i + 2));
    for (const ref of refs) {
      const row = (await db.pool.query("SELECT seq, hash FROM events WHERE tenant = 'concurrent' AND id = $1", [ref.id])).rows[0];
      expect(row).toEqual({ seq: ref.seq, hash: ref.hash });
    }
    expect(await assertChainValid(db.pool, "concurrent")).toBe(refs.length + 1);
  });

  it("appends optimistically at the head it knows, falls back to locking when another instance moved it, and backs off", async () => {
    const key = await tenantWithKey(a.url, "paths", ["events:write"]);
    const paths = async (server: RunningApiServer) => {
      const text = (await call(server.url, "GET", "/metrics")).body as string;
      return Object.fromEntries(["optimistic", "stale_head", "locking"].map((p) => [p, Number(new RegExp(`^trailkeeper_append_groups_total\\{path="${p}"\\} (\\d+)`, "m").exec(text)?.[1] ?? 0)]));
    };
    const [a0, b0] = [await paths(a), await paths(b)];
    const steps: [RunningApiServer, Record<string, unknown>][] = [
      [a, sampleEvent()], // 1. a has not appended to this tenant yet: locking
      [a, sampleEvent()], // 2. a knows the head: optimistic
      [b, sampleEvent()], // 3. b has never appended here: locking
      [a, sampleEvent()], // 4. a's head is stale (b appended): stale_head, then locking; a skips 1 attempt
      [a, sampleEvent()], // 5. skipped: locking
      [b, sampleEvent()], // 6. b's head is stale: stale_head
      [a, sampleEvent()], // 7. a tries again, stale again: stale_head; now a skips 2 attempts
      [a, sampleEvent()], // 8. skipped: locking
      [a, sampleEvent()], // 9. skipped: locking
      [a, sampleEvent()], // 10. optimistic again (and the back-off resets)
      [a, sampleEvent({ id: randomUUID() })], // 11. a client-supplied id always takes the locking path
    ];
    for (const [server, body] of steps) expect((await call(server.url, "POST", "/v1/events", { token: key, body })).status).toBe(201);
    const [a1, b1] = [await paths(a), await paths(b)];
    const delta = (x: Record<string, number>, y: Record<string, number>) => Object.fromEntries(Object.keys(x).map((k) => [k, y[k]! - x[k]!]));
    expect(delta(a0, a1)).toEqual({ optimistic: 2, stale_head: 2, locking: 5 });
    expect(delta(b0, b1)).toEqual({ optimistic: 0, stale_head: 1, locking: 1 });
    expect(await assertChainValid(db.pool, "paths")).toBe(1 + steps.length);
  });

  it("keeps a batch in request order and all-or-nothing", async () => {
    const key = await tenantWithKey(a.url, "batch", ["events:write"]);
    const events = Array.from({ length: 5 }, () => sampleEvent({ id: randomUUID() }));
    const ok = await call(a.url, "POST", "/v1/events", { token: key, body: { events } });
    expect(ok.status).toBe(201);
    expect(ok.body.events.map((e: { id: string }) => e.id)).toEqual(events.map((e) => e.id));
    expect(ok.body.events.map((e: { seq: number }) => e.seq)).toEqual([2, 3, 4, 5, 6]);
    const bad = await call(a.url, "POST", "/v1/events", { token: key, body: { events: [sampleEvent(), sampleEvent({ outcome: "maybe" }), sampleEvent()] } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual(["events[1].outcome"]);
    expect(await count("batch")).toBe(6);
  });

  it("treats a stored id as an idempotent retry: same seq and hash, nothing doubled", async () => {
    const key = await tenantWithKey(a.url, "idem", ["events:write"]);
    const event = sampleEvent({ id: randomUUID() });
    const first = await call(a.url, "POST", "/v1/events", { token: key, body: event });
    const retry = await call(b.url, "POST", "/v1/events", { token: key, body: event });
    expect(first.status).toBe(201);
    expect(retry.status).toBe(200);
    expect(retry.body.events[0]).toEqual({ ...first.body.events[0], duplicate: true });
    const mixed = await call(a.url, "POST", "/v1/events", { token: key, body: { events: [event, sampleEvent()] } });
    expect(mixed.status).toBe(201);
    expect(mixed.body.events[0]).toEqual({ ...first.body.events[0], duplicate: true });
    expect(mixed.body.events[1].seq).toBe(first.body.events[0].seq + 1);
    // Concurrent retries of one new id: exactly one row.
    const racer = sampleEvent({ id: randomUUID() });
    const raced = await Promise.all([a, b, a, b].map((s) => call(s.url, "POST", "/v1/events", { token: key, body: racer })));
    expect(new Set(raced.map((r) => r.body.events[0].seq)).size).toBe(1);
    expect(raced.filter((r) => r.status === 201)).toHaveLength(1);
    expect(await count("idem")).toBe(4);
    expect(await assertChainValid(db.pool, "idem")).toBe(4);
  });

  it("fills defaults: generated UUIDv7 id, occurredAt = receivedAt, outcome unknown", async () => {
    const key = await tenantWithKey(a.url, "defaults", ["events:write"]);
    const res = await call(a.url, "POST", "/v1/events", { token: key, body: { actor: { id: "x", type: "system" }, action: "billing.charge", resource: { type: "invoice", id: "i-1" } } });
    expect(res.status).toBe(201);
    expect(res.body.events[0].id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const row = (await db.pool.query("SELECT occurred_at, received_at, outcome, category FROM events WHERE id = $1", [res.body.events[0].id])).rows[0];
    expect(row.occurred_at).toEqual(row.received_at);
    expect(row).toMatchObject({ outcome: "unknown", category: "billing" });
  });
});

describe("append-only storage", () => {
  it("rejects UPDATE, DELETE and TRUNCATE on events in the database itself", async () => {
    const key = await tenantWithKey(a.url, "immutable", ["events:write"]);
    await call(a.url, "POST", "/v1/events", { token: key, body: sampleEvent() });
    await expect(db.pool.query("UPDATE events SET outcome = 'failure' WHERE tenant = 'immutable'")).rejects.toThrow(/append-only: UPDATE/);
    await expect(db.pool.query("DELETE FROM events WHERE tenant = 'immutable'")).rejects.toThrow(/append-only: event 1 of tenant immutable is not below a sealed retention boundary/);
    await expect(db.pool.query("TRUNCATE events CASCADE")).rejects.toThrow(/append-only: TRUNCATE/);
    expect(await count("immutable")).toBe(2);
  });
});
