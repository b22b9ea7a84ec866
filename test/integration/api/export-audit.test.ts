import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApiServer } from "../../../api-server/src/server.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { bulkAppend } from "../../support/bulk.ts";
import { startTestApi, tenantWithKey } from "../../support/api.ts";

// Enough rows that an export is still streaming when its client goes away or its statement is cancelled.
const events = 20_000;
let db: TestDatabase;
let api: RunningApiServer;
let key: string;

beforeAll(async () => {
  db = await freshDatabase();
  api = await startTestApi(db);
  key = await tenantWithKey(api.url, "t", ["events:write", "events:export"]);
  await bulkAppend(db.pool, "t", events);
}, 120_000);

afterAll(async () => {
  await api?.close();
  await db?.drop();
});

interface ExportRecord {
  seq: number;
  outcome: string;
  details: { format: string; filters: Record<string, string>; throughSeq?: number; rows?: number; reason?: string; message?: string };
  requestId: string | null;
}

/** The `audit.export` records of tenant t whose export ran through `head`: the opening one and the closing one. */
async function exportRecords(head: number): Promise<ExportRecord[]> {
  const { rows } = await db.pool.query<{ seq: number; outcome: string; details: string; request_id: string | null }>(
    "SELECT seq, outcome, details, request_id FROM events WHERE tenant = 't' AND action = 'audit.export' AND (seq = $1 OR (details::jsonb->>'throughSeq')::bigint = $1) ORDER BY seq",
    [head],
  );
  return rows.map((r) => ({ seq: r.seq, outcome: r.outcome, details: JSON.parse(r.details), requestId: r.request_id }));
}

async function closingRecord(head: number, timeoutMs = 10_000): Promise<ExportRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const records = await exportRecords(head);
    if (records.length === 2) return records[1]!;
    if (Date.now() > deadline) throw new Error(`no closing record for the export through ${head}: ${JSON.stringify(records)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const get = (base: string, query: string, init: RequestInit = {}) =>
  fetch(`${base}/v1/events/export?${query}`, { ...init, headers: { authorization: `Bearer ${key}`, "x-request-id": "req-audit-1", ...init.headers } });

/** Reads a response body until it ends or fails; how many bytes arrived and whether it ended cleanly. */
async function drain(res: Response): Promise<{ text: string; complete: boolean }> {
  let text = "";
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) text += decoder.decode(chunk, { stream: true });
    return { text, complete: true };
  } catch {
    return { text, complete: false };
  }
}

/**
 * Starts an export on a raw socket that stops reading once the headers are in: the export stays in flight, its
 * writes no longer taken (20,000 events are several times what the loopback socket's buffers hold).
 */
async function exportThatStopsReading(base: string, format: string): Promise<{ socket: Socket; through: number }> {
  const url = new URL(base);
  const socket = connect(Number(url.port), url.hostname);
  let head = "";
  const through = new Promise<number>((resolve) => {
    const onData = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      const m = /trailkeeper-export-through-seq: (\d+)/i.exec(head);
      if (!m) return;
      socket.off("data", onData);
      socket.pause(); // reads nothing more
      resolve(Number(m[1]));
    };
    socket.on("data", onData);
  });
  socket.on("error", () => {}); // the server resets or closes the connection
  socket.write(`GET /v1/events/export?format=${format} HTTP/1.1\r\nhost: ${url.host}\r\nauthorization: Bearer ${key}\r\n\r\n`);
  return { socket, through: await through };
}

/** Export queries (COPY for CSV, the keyset SELECT for JSONL) still running in the database. */
async function exportQueriesRunning(): Promise<number> {
  const r = await db.pool.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state <> 'idle' AND (query LIKE 'COPY (SELECT %' OR query LIKE 'SELECT tenant, seq, id, %ORDER BY seq') AND pid <> pg_backend_pid()");
  return r.rows[0].n;
}

describe("audit.export records the export's outcome", () => {
  it.each(["jsonl", "csv"])("a completed %s export: an opening record at its head, and a success record with its row count stored before the response ends", async (format) => {
    const res = await get(api.url, `format=${format}`);
    expect(res.status).toBe(200);
    const head = Number(res.headers.get("trailkeeper-export-through-seq"));
    const body = await drain(res);
    expect(body.complete).toBe(true);
    const rows = body.text.split("\n").filter(Boolean).length - (format === "csv" ? 1 : 0);
    expect(rows).toBe(head);

    // No waiting: the closing record is stored before the last byte is sent.
    const [opening, closing] = await exportRecords(head);
    expect(opening).toMatchObject({ seq: head, outcome: "unknown", details: { format, filters: {} }, requestId: "req-audit-1" });
    expect(closing).toMatchObject({ outcome: "success", details: { format, filters: {}, throughSeq: head, rows }, requestId: "req-audit-1" });
    expect(closing!.details.reason).toBeUndefined();
    if (format === "jsonl") expect(JSON.parse(body.text.trimEnd().split("\n").at(-1)!)).toMatchObject({ seq: head, action: "audit.export", outcome: "unknown" });
  });

  it("counts the rows of a filtered export", async () => {
    const res = await get(api.url, "format=csv&action=auth.login");
    const head = Number(res.headers.get("trailkeeper-export-through-seq"));
    const rows = (await drain(res)).text.split("\r\n").filter(Boolean).length - 1;
    expect(rows).toBe(events / 8);
    expect((await exportRecords(head))[1]).toMatchObject({ outcome: "success", details: { rows, filters: { action: "auth.login" } } });
  });

  it.each(["jsonl", "csv"])("a %s client that disconnects mid-export: a failure record", async (format) => {
    const ac = new AbortController();
    const res = await get(api.url, `format=${format}`, { signal: ac.signal });
    const head = Number(res.headers.get("trailkeeper-export-through-seq"));
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    for (let got = 0; got < 8192; ) got += (await reader.read()).value!.length;
    ac.abort();
    const closing = await closingRecord(head);
    expect(closing).toMatchObject({ outcome: "failure", details: { format, throughSeq: head, reason: "client_disconnected" } });
    expect(closing.details.rows).toBeLessThan(head);
  });
});

describe("a failed query", () => {
  let strict: RunningApiServer;
  beforeAll(async () => {
    // Every export statement is cancelled after 1 ms, long before 20,000 rows are out.
    strict = await startTestApi(db, { TRAILKEEPER_EXPORT_STATEMENT_TIMEOUT_MS: "1" });
  });
  afterAll(async () => {
    await strict?.close();
  });

  it.each(["jsonl", "csv"])("cut %s export: the response ends short and a failure record names the database error", async (format) => {
    const res = await get(strict.url, `format=${format}`);
    expect(res.status).toBe(200);
    const head = Number(res.headers.get("trailkeeper-export-through-seq"));
    expect((await drain(res)).complete).toBe(false);
    const closing = await closingRecord(head);
    expect(closing).toMatchObject({ outcome: "failure", details: { format, throughSeq: head, reason: "database_error" } });
    expect(closing.details.message).toMatch(/statement timeout/);
  });
});

describe("a client that stops reading", () => {
  let guarded: RunningApiServer;
  beforeAll(async () => {
    guarded = await startTestApi(db, { TRAILKEEPER_EXPORT_STALL_TIMEOUT_MS: "1000" });
  });
  afterAll(async () => {
    await guarded?.close();
  });

  // The CSV path then waits on its reused blocks, the JSONL path on the response.
  it.each(["jsonl", "csv"])("stalled %s export: cut after the stall timeout, a failure record, its connection released", async (format) => {
    const { socket, through } = await exportThatStopsReading(guarded.url, format);
    const closing = await closingRecord(through, 15_000);
    expect(closing).toMatchObject({ outcome: "failure", details: { format, throughSeq: through, reason: "stalled" } });
    expect(closing.details.rows).toBeLessThan(through);
    socket.destroy();
    expect(await exportQueriesRunning()).toBe(0);
  }, 30_000);
});

describe("a shutdown during an export", () => {
  // SIGTERM runs close(): an export still streaming when the shutdown timeout ends is cut, and its closing record
  // is stored before the server lets go of the database.
  it.each(["jsonl", "csv"])("%s export cut by the shutdown timeout: a failure record, no query left, a clean stop", async (format) => {
    const stopping = await startTestApi(db, { TRAILKEEPER_SHUTDOWN_TIMEOUT_MS: "500" });
    const { socket, through } = await exportThatStopsReading(stopping.url, format);
    const t0 = Date.now();
    await stopping.close();
    expect(Date.now() - t0).toBeLessThan(10_000);
    socket.destroy();
    // Already stored: no waiting after close().
    const records = await exportRecords(through);
    expect(records).toHaveLength(2);
    expect(records[1]).toMatchObject({ outcome: "failure", details: { format, throughSeq: through, reason: "shutdown" } });
    expect(records[1]!.details.rows).toBeLessThan(through);
    expect(await exportQueriesRunning()).toBe(0);
  }, 30_000);
});
