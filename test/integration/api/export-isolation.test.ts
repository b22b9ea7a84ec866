import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApiServer } from "../../../api-server/src/server.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { bulkAppend } from "../../support/bulk.ts";
import { call, sampleEvent, startTestApi, tenantWithKey } from "../../support/api.ts";

// Enough rows (about 600 bytes each as JSONL) that a client that stops reading fills both socket buffers.
const eventsPerTenant = 10_000;
const stallTimeoutMs = 6_000;
let db: TestDatabase;
let api: RunningApiServer;
const keys = new Map<string, string>();
const stallingTenants = ["a", "c1", "c2", "c3", "c4", "c5"];
const sockets: Socket[] = [];

beforeAll(async () => {
  db = await freshDatabase();
  // Pool 20 with 5 kept for ingest (the defaults): exports may hold at most 15 connections.
  api = await startTestApi(db, {
    TRAILKEEPER_DB_POOL_SIZE: "20", TRAILKEEPER_DB_RESERVED_FOR_INGEST: "5", TRAILKEEPER_EXPORTS_PER_TENANT: "4",
    TRAILKEEPER_EXPORT_STALL_TIMEOUT_MS: String(stallTimeoutMs), TRAILKEEPER_EXPORT_QUEUE_TIMEOUT_MS: "500",
  });
  for (const t of [...stallingTenants, "b"]) keys.set(t, await tenantWithKey(api.url, t, ["events:write", "events:export", "integrity:read"]));
  for (const t of stallingTenants) await bulkAppend(db.pool, t, eventsPerTenant);
}, 180_000);

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await api?.close();
  await db?.drop();
});

interface Stalled { status: number; headers: string; socket: Socket }

/** Sends an export request, reads the response head, then stops reading (the socket stays open, paused). */
function stalledExport(tenant: string): Promise<Stalled> {
  const url = new URL(api.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    sockets.push(socket);
    let head = "";
    const onData = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      socket.off("data", onData);
      socket.setTimeout(0);
      socket.pause();
      resolve({ status: Number(head.slice(9, 12)), headers: head.slice(0, end).toLowerCase(), socket });
    };
    socket.on("data", onData);
    socket.on("error", reject);
    socket.setTimeout(10_000, () => reject(new Error(`no response head within 10 s: ${head.slice(0, 80)}`)));
    socket.write(`GET /v1/events/export?format=jsonl HTTP/1.1\r\nhost: ${url.host}\r\nauthorization: Bearer ${keys.get(tenant)}\r\n\r\n`);
  });
}

/** Sequential single-event ingests of tenant b; the latency of each in ms. Each must answer within 5 s. */
async function ingestLatencies(n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await fetch(`${api.url}/v1/events`, {
      method: "POST", headers: { authorization: `Bearer ${keys.get("b")}`, "content-type": "application/json" },
      body: JSON.stringify(sampleEvent()), signal: AbortSignal.timeout(5_000),
    });
    expect(res.status).toBe(201);
    await res.arrayBuffer();
    out.push(performance.now() - t0);
  }
  return out;
}

const p95 = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.ceil(xs.length * 0.95) - 1]!;

const activeExportQueries = async () =>
  Number((await db.pool.query("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND state <> 'idle' AND query LIKE 'SELECT tenant, seq, id, %ORDER BY seq'")).rows[0].n);

const stalledRecords = async () =>
  Number((await db.pool.query("SELECT count(*) AS n FROM events WHERE action = 'audit.export' AND outcome = 'failure' AND details::jsonb->>'reason' = 'stalled'")).rows[0].n);

async function waitFor(what: string, ok: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("export isolation", () => {
  it("keeps another tenant's ingest and /readyz answering while 24 exports of one tenant (and 20 of others) stall", async () => {
    const before = await ingestLatencies(30);

    // 24 of tenant a at once: 4 run, the rest are refused at once.
    const ofA = await Promise.all(Array.from({ length: 24 }, () => stalledExport("a")));
    const runningA = ofA.filter((s) => s.status === 200);
    const refusedA = ofA.filter((s) => s.status === 429);
    expect(runningA).toHaveLength(4);
    expect(refusedA).toHaveLength(20);
    for (const r of refusedA) {
      expect(r.headers).toMatch(/\r\nretry-after: \d+/);
      expect(r.headers).toMatch(/content-type: application\/problem\+json/);
    }
    const stalledAt = Date.now();
    // A verification also holds a connection as long as it runs, so it counts against the same limit.
    const verify = await call(api.url, "GET", "/v1/integrity/verify", { token: keys.get("a") });
    expect(verify.status).toBe(429);
    expect(verify.body.code).toBe("too_many_exports");
    expect(Number(verify.headers.get("retry-after"))).toBeGreaterThan(0);

    // 4 each of five more tenants: only 11 more connections may go to exports; the others wait briefly, then 503.
    const others = await Promise.all(stallingTenants.slice(1).flatMap((t) => Array.from({ length: 4 }, () => stalledExport(t))));
    const runningOthers = others.filter((s) => s.status === 200);
    const busy = others.filter((s) => s.status === 503);
    expect(runningOthers).toHaveLength(11);
    expect(busy).toHaveLength(9);
    for (const r of busy) expect(r.headers).toMatch(/\r\nretry-after: \d+/);
    expect(await activeExportQueries()).toBe(15);

    const during = await ingestLatencies(30);
    const ready = await call(api.url, "GET", "/readyz");
    expect(ready.status, JSON.stringify(ready.body)).toBe(200);
    expect(p95(during), `p95 before ${p95(before).toFixed(1)} ms`).toBeLessThan(Math.max(5 * p95(before), 1_000));

    // Each stalled export is cut once it made no progress for the stall timeout, and its connection comes back.
    const running = [...runningA, ...runningOthers];
    await waitFor("stalled exports to be recorded", async () => (await stalledRecords()) === running.length, stallTimeoutMs + 10_000);
    expect(Date.now() - stalledAt).toBeGreaterThanOrEqual(stallTimeoutMs);
    await waitFor("export connections to be released", async () => (await activeExportQueries()) === 0, 5_000);

    // The slots are free again: a full export of tenant a completes.
    const res = await fetch(`${api.url}/v1/events/export?format=jsonl`, { headers: { authorization: `Bearer ${keys.get("a")}` } });
    expect(res.status).toBe(200);
    expect((await res.text()).split("\n").filter(Boolean).length).toBeGreaterThan(eventsPerTenant);
  }, 120_000);
});
