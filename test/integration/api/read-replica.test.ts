import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApiServer } from "../../../api-server/src/server.ts";
import { migrate } from "../../../core/src/db/migrate.ts";
import { createPool } from "../../../core/src/db/pool.ts";
import { call, sampleEvent, startTestApi, tenantWithKey, type Call } from "../../support/api.ts";
import type { TestDatabase } from "../../support/database.ts";
import { startReplicatedPostgres, type ReplicatedPostgres } from "../../support/standby.ts";

/**
 * DATABASE_READ_URL against a real streaming standby (test/support/standby.ts). Pausing the standby's replay
 * (pg_wal_replay_pause) freezes its view while the primary moves on, which shows which server answered.
 */

let rp: ReplicatedPostgres;
let db: TestDatabase;
let replicaUrl: string;
const apis: RunningApiServer[] = [];

beforeAll(async () => {
  rp = await startReplicatedPostgres();
  const name = await rp.createDatabase();
  const url = rp.urlFor(name);
  const pool = createPool(url, 2);
  await migrate(pool);
  db = { url, pool, superuser: () => Promise.reject(new Error("not used")), drop: () => pool.end() };
  replicaUrl = rp.standby.urlFor(name);
  await rp.standby.caughtUp();
});

afterAll(async () => {
  for (const api of apis) await api.close();
  await db?.drop();
  await rp?.stop();
});

async function startApi(env: Record<string, string>): Promise<string> {
  const api = await startTestApi(db, { DATABASE_READ_URL: replicaUrl, ...env });
  apis.push(api);
  return api.url;
}

/** The value of `trailkeeper_reads_total` for one label set (0 when absent). */
async function reads(base: string, read: string, servedBy: string, reason: string): Promise<number> {
  const text = (await call(base, "GET", "/metrics")).body as string;
  const line = text.split("\n").find((l) => l.startsWith(`trailkeeper_reads_total{read="${read}",served_by="${servedBy}",reason="${reason}"}`));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

async function ingest(base: string, key: string, n = 1): Promise<number[]> {
  const r = await call(base, "POST", "/v1/events", { token: key, body: { events: Array.from({ length: n }, () => sampleEvent()) } });
  expect(r.status).toBe(201);
  return (r.body.events as { seq: number }[]).map((e) => e.seq);
}

const seqsOf = (r: Call) => (r.body.events as { seq: number }[]).map((e) => e.seq);

async function exportJsonl(base: string, key: string): Promise<{ status: number; throughSeq: number; seqs: number[]; actions: string[] }> {
  const res = await fetch(`${base}/v1/events/export?format=jsonl`, { headers: { authorization: `Bearer ${key}` } });
  const lines = (await res.text()).split("\n").filter(Boolean).map((l) => JSON.parse(l) as { seq: number; action: string });
  return { status: res.status, throughSeq: Number(res.headers.get("trailkeeper-export-through-seq")), seqs: lines.map((l) => l.seq), actions: lines.map((l) => l.action) };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
/** A search's first page of a chain whose head is `head`: newest first. */
const newestFirst = (head: number) => range(1, head).reverse();

/** Rows of `events` the standby itself has read (its own statistics), for proof that a read ran there. */
async function eventRowsReadOnStandby(): Promise<number> {
  const standby = new pg.Client({ connectionString: replicaUrl });
  await standby.connect();
  try {
    // events is partitioned: its partitions carry the statistics.
    const r = await standby.query(
      "SELECT sum(coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0))::int AS n FROM pg_stat_user_tables WHERE relid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'events'::regclass)",
    );
    return (r.rows[0]?.n as number | undefined) ?? 0;
  } finally {
    await standby.end();
  }
}

/** Polls `read` until `ok` holds for what it returned, within 15 s. */
async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("read replica (DATABASE_READ_URL)", () => {
  let base: string;
  beforeAll(async () => {
    base = await startApi({ TRAILKEEPER_READ_WAIT_MS: "1500", TRAILKEEPER_READ_MAX_LAG_MS: "60000" });
  });

  it("reports the replica in /readyz", async () => {
    const r = await call(base, "GET", "/readyz");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: "ready", readReplica: { status: "available" } });
  });

  it("serves search from the replica, and minSeq from the primary until the replica has applied it", async () => {
    const key = await tenantWithKey(base, "rr-search", ["events:write", "events:read"]);
    const [first] = await ingest(base, key);
    await rp.standby.caughtUp();
    await rp.standby.pauseReplay();
    try {
      const [second] = await ingest(base, key);
      const replicaBefore = await reads(base, "search", "replica", "replica");
      // The replica's view: the event ingested after replay stopped is not there yet.
      expect(seqsOf(await call(base, "GET", "/v1/events", { token: key }))).toEqual(newestFirst(first!));
      expect(await reads(base, "search", "replica", "replica")).toBe(replicaBefore + 1);

      // Read-your-writes: the replica cannot apply `second` within the wait, so the primary answers.
      const fallbackBefore = await reads(base, "search", "primary", "not_replayed");
      const mine = await call(base, "GET", `/v1/events?minSeq=${second}`, { token: key });
      expect(mine.status).toBe(200);
      expect(seqsOf(mine)).toEqual(newestFirst(second!));
      expect(await reads(base, "search", "primary", "not_replayed")).toBe(fallbackBefore + 1);

      // Paging on from the primary's page: the next page needs every event below its cursor, which the replica
      // lacks, so the primary answers it too instead of skipping events.
      const [third] = await ingest(base, key);
      const newest = await call(base, "GET", `/v1/events?minSeq=${third}&limit=1`, { token: key });
      expect(seqsOf(newest)).toEqual([third]);
      const next = await call(base, "GET", `/v1/events?cursor=${newest.body.nextCursor as string}`, { token: key });
      expect(seqsOf(next)).toEqual(newestFirst(second!));

      // Authentication reads the primary: a key created now works although the replica has not seen it.
      const fresh = await call(base, "POST", "/v1/admin/tenants/rr-search/api-keys", { token: apis[0]!.adminToken, body: { scopes: ["events:read"] } });
      expect((await call(base, "GET", `/v1/events?minSeq=${second}`, { token: fresh.body.key as string })).status).toBe(200);

      await rp.standby.resumeReplay();
      await rp.standby.caughtUp();
      const replicaNow = await reads(base, "search", "replica", "replica");
      // The key's creation is in the chain too: the page runs from the head the replica has applied by now.
      const page = seqsOf(await call(base, "GET", `/v1/events?minSeq=${second}`, { token: key }));
      expect(page).toContain(second);
      expect(page).toEqual(newestFirst(page[0]!));
      expect(await reads(base, "search", "replica", "replica")).toBe(replicaNow + 1);
    } finally {
      await rp.standby.resumeReplay();
    }
  });

  it("rejects a malformed minSeq with a 400", async () => {
    const key = await tenantWithKey(base, "rr-bad", ["events:read"]);
    for (const bad of ["0", "-1", "x", "1.5"]) {
      const r = await call(base, "GET", `/v1/events?minSeq=${bad}`, { token: key });
      expect(r.status).toBe(400);
      expect(r.headers.get("content-type")).toMatch(/application\/problem\+json/);
      expect(r.body.errors).toEqual([expect.objectContaining({ path: "minSeq" })]);
    }
  });

  it("exports from the replica once it has applied the opening record", async () => {
    // A wait long enough for the standby to apply the opening record however busy the machine is.
    const base = await startApi({ TRAILKEEPER_READ_WAIT_MS: "15000" });
    const key = await tenantWithKey(base, "rr-export", ["events:write", "events:export"]);
    await ingest(base, key, 300);
    await rp.standby.caughtUp();
    const rowsBefore = await eventRowsReadOnStandby();
    const before = await reads(base, "export", "replica", "replica");
    const jsonl = await exportJsonl(base, key);
    expect(jsonl.status).toBe(200);
    expect(jsonl.seqs).toEqual(range(1, jsonl.throughSeq));
    expect(jsonl.actions.at(-1)).toBe("audit.export");
    expect(await reads(base, "export", "replica", "replica")).toBe(before + 1);

    // The rows were read on the standby: its own statistics count them. A backend flushes them when it exits, so
    // the API server's replica connections are ended (its pool replaces them).
    const standby = new pg.Client({ connectionString: replicaUrl });
    await standby.connect();
    await standby.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'trailkeeper-read'").finally(() => standby.end());
    const rowsAfter = await eventually(eventRowsReadOnStandby, (n) => n - rowsBefore >= jsonl.throughSeq);
    expect(rowsAfter - rowsBefore).toBeGreaterThanOrEqual(jsonl.throughSeq);
  });

  it("exports every row it claims while the replica's replay is paused: the primary takes the export", async () => {
    const key = await tenantWithKey(base, "rr-export-paused", ["events:write", "events:export"]);
    await ingest(base, key, 10);
    await rp.standby.caughtUp();
    await rp.standby.pauseReplay();
    try {
      const [last] = await ingest(base, key, 5).then((s) => s.slice(-1));
      const before = await reads(base, "export", "primary", "not_replayed");
      const jsonl = await exportJsonl(base, key);
      expect(jsonl.status).toBe(200);
      // Everything up to its own opening record, which was written after the last ingest.
      expect(jsonl.throughSeq).toBe(last! + 1);
      expect(jsonl.seqs).toEqual(range(1, last! + 1));

      const csv = await fetch(`${base}/v1/events/export?format=csv`, { headers: { authorization: `Bearer ${key}` } });
      const through = Number(csv.headers.get("trailkeeper-export-through-seq"));
      const rows = (await csv.text()).split("\r\n").filter(Boolean).slice(1);
      expect(rows.map((r) => Number(r.split(",")[1]))).toEqual(range(1, through));
      expect(await reads(base, "export", "primary", "not_replayed")).toBe(before + 2);
    } finally {
      await rp.standby.resumeReplay();
    }
  });

  it("verifies through the replica, and a toSeq the replica lacks on the primary", async () => {
    const key = await tenantWithKey(base, "rr-verify", ["events:write", "integrity:read"]);
    const [replicated] = await ingest(base, key, 8).then((s) => s.slice(-1));
    await rp.standby.caughtUp();
    await rp.standby.pauseReplay();
    let last: number | undefined;
    try {
      [last] = await ingest(base, key, 4).then((s) => s.slice(-1));
      const onReplica = await call(base, "GET", "/v1/integrity/verify", { token: key });
      expect(onReplica.body).toMatchObject({ ok: true, headSeq: replicated, checked: replicated });
      const onPrimary = await call(base, "GET", `/v1/integrity/verify?toSeq=${last}`, { token: key });
      expect(onPrimary.body).toMatchObject({ ok: true, headSeq: last, checked: last });
      expect(await reads(base, "verify", "primary", "not_replayed")).toBe(1);
    } finally {
      await rp.standby.resumeReplay();
    }
    await rp.standby.caughtUp();
    const after = await call(base, "GET", "/v1/integrity/verify", { token: key });
    expect(after.body).toMatchObject({ ok: true, headSeq: last, checked: last });
    expect(await reads(base, "verify", "replica", "replica")).toBe(2);
  });
});

describe("read replica beyond the lag bound", () => {
  it("reads from the primary while the replica lags more than TRAILKEEPER_READ_MAX_LAG_MS", async () => {
    const base = await startApi({ TRAILKEEPER_READ_MAX_LAG_MS: "200", TRAILKEEPER_READ_WAIT_MS: "0" });
    const key = await tenantWithKey(base, "rr-lag", ["events:write", "events:read"]);
    await ingest(base, key);
    await rp.standby.caughtUp();
    await rp.standby.pauseReplay();
    try {
      const [second] = await ingest(base, key);
      const ready = await eventually(() => call(base, "GET", "/readyz"), (r) => r.body.readReplica?.status === "lagging");
      expect(ready.status).toBe(200);
      expect(ready.body.readReplica).toMatchObject({ status: "lagging" });
      expect(ready.body.readReplica.lagSeconds).toBeGreaterThan(0.2);
      expect(seqsOf(await call(base, "GET", "/v1/events", { token: key }))).toEqual(newestFirst(second!));
      expect(await reads(base, "search", "primary", "lagging")).toBe(1);
      const metrics = (await call(base, "GET", "/metrics")).body as string;
      expect(Number(/^trailkeeper_read_replica_lag_seconds (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0.2);
    } finally {
      await rp.standby.resumeReplay();
    }
    const back = await eventually(() => call(base, "GET", "/readyz"), (r) => r.body.readReplica?.status === "available");
    expect(back.body.readReplica.status).toBe("available");
  });
});

describe("read replica cut off from its primary", () => {
  it("counts as lagging once its last applied transaction is older than the bound, however idle the primary", async () => {
    const base = await startApi({ TRAILKEEPER_READ_MAX_LAG_MS: "300", TRAILKEEPER_READ_WAIT_MS: "0" });
    const key = await tenantWithKey(base, "rr-cut", ["events:write", "events:read"]);
    await ingest(base, key);
    await rp.standby.caughtUp();
    await rp.standby.disconnect();
    try {
      // It has applied all it received, so only its WAL receiver being gone tells that it may be behind.
      const ready = await eventually(() => call(base, "GET", "/readyz"), (r) => r.body.readReplica?.status === "lagging");
      expect(ready.body.readReplica.status).toBe("lagging");
      const [latest] = await ingest(base, key);
      expect(seqsOf(await call(base, "GET", "/v1/events", { token: key }))[0]).toBe(latest);
      expect(await reads(base, "search", "primary", "lagging")).toBe(1);
    } finally {
      await rp.standby.reconnect();
    }
    await rp.standby.caughtUp(30_000);
    const back = await eventually(() => call(base, "GET", "/readyz"), (r) => r.body.readReplica?.status === "available");
    expect(back.body.readReplica.status).toBe("available");
  }, 60_000);
});

describe("read replica killed", () => {
  it("answers search, export and verification from the primary, never a 500, and returns to the replica", async () => {
    const base = await startApi({ TRAILKEEPER_READ_WAIT_MS: "300" });
    const key = await tenantWithKey(base, "rr-kill", ["events:write", "events:read", "events:export", "integrity:read"]);
    await ingest(base, key, 5);
    await rp.standby.caughtUp();
    // Warm the replica pool, so that its connections are the ones the kill breaks.
    expect((await call(base, "GET", "/v1/events", { token: key })).status).toBe(200);
    await rp.standby.kill();
    try {
      const [last] = await ingest(base, key);
      const search = await call(base, "GET", "/v1/events", { token: key });
      expect(search.status).toBe(200);
      expect(seqsOf(search)[0]).toBe(last);
      const jsonl = await exportJsonl(base, key);
      expect(jsonl.status).toBe(200);
      expect(jsonl.seqs).toEqual(range(1, jsonl.throughSeq));
      const verify = await call(base, "GET", "/v1/integrity/verify", { token: key });
      expect(verify.status).toBe(200);
      expect(verify.body.ok).toBe(true);
      const ready = await eventually(() => call(base, "GET", "/readyz"), (r) => r.body.readReplica?.status === "unreachable");
      expect(ready.status).toBe(200);
      expect(ready.body).toEqual({ status: "ready", readReplica: { status: "unreachable" } });
      const metrics = (await call(base, "GET", "/metrics")).body as string;
      expect(metrics).toMatch(/^trailkeeper_read_replica_up 0$/m);
      const bypassed = (await reads(base, "search", "primary", "replica_failed")) + (await reads(base, "search", "primary", "unreachable"));
      expect(bypassed).toBe(1);
      expect(metrics).not.toMatch(/status="500"/);
    } finally {
      await rp.standby.start();
    }
    await eventually(() => call(base, "GET", "/readyz"), (r) => r.body.readReplica?.status === "available");
    const replicaBefore = await reads(base, "search", "replica", "replica");
    expect((await call(base, "GET", "/v1/events", { token: key })).status).toBe(200);
    expect(await reads(base, "search", "replica", "replica")).toBe(replicaBefore + 1);
  });
});
