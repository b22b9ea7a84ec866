import pg from "pg";
import { Pool as HttpPool } from "undici";
import { eventColumns, eventToRow } from "../../core/src/db/event-rows.ts";
import type { StoredEvent } from "../../core/src/events/model.ts";
import { copyInto } from "./copy-into.ts";

/** What one measured phase did: events written, wall time, and per-request (or per-statement) latencies. */
export interface LoadResult {
  events: number;
  seconds: number;
  /** Milliseconds, one per request or statement; empty for COPY. */
  latencies: Float64Array;
}

/** Runs `worker(i)` for i in [0, count) with `concurrency` loops pulling the next index; returns the wall time. */
async function concurrently(count: number, concurrency: number, worker: (i: number, loop: number) => Promise<void>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async (_, loop) => {
    while (next < count) await worker(next++, loop);
  }));
  return (performance.now() - start) / 1000;
}

/** A load failure the benchmark must not silently measure: any non-2xx answer, network error or short reply. */
export class LoadFailure extends Error {}

/** An HTTP client with `connections` keep-alive sockets to the API server; one request per socket at a time. */
export function httpClient(url: string, connections: number): HttpPool {
  return new HttpPool(url, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
}

/**
 * POSTs every pre-serialised body to /v1/events from `clients` concurrent loops. Each answer must be a 201
 * acknowledging exactly `perBody` new events, else the phase fails after it ends, with counts by status.
 */
export async function httpIngest(http: HttpPool, apiKey: string | readonly string[], bodies: readonly Buffer[], perBody: number, clients: number): Promise<LoadResult> {
  const latencies = new Float64Array(bodies.length);
  const failures = new Map<string, number>();
  let firstFailure: string | undefined;
  const fail = (kind: string, detail: string) => {
    failures.set(kind, (failures.get(kind) ?? 0) + 1);
    firstFailure ??= `${kind}: ${detail.slice(0, 500)}`;
  };
  // Several keys (of several tenants): body i goes to key i mod n, so the tenants take turns.
  const keys = typeof apiKey === "string" ? [apiKey] : apiKey;
  const headers = keys.map((k) => ({ authorization: `Bearer ${k}`, "content-type": "application/json" }));
  const seconds = await concurrently(bodies.length, clients, async (i) => {
    const t0 = performance.now();
    try {
      const res = await http.request({ path: "/v1/events", method: "POST", headers: headers[i % headers.length]!, body: bodies[i]! });
      const text = await res.body.text();
      latencies[i] = performance.now() - t0;
      if (res.statusCode !== 201) return fail(`HTTP ${res.statusCode}`, text);
      const acked = (JSON.parse(text) as { events: { seq: number; duplicate?: boolean }[] }).events;
      if (acked.length !== perBody || acked.some((e) => e.duplicate || !(e.seq > 0))) fail("bad acknowledgement", text);
    } catch (err) {
      latencies[i] = performance.now() - t0;
      fail("network error", String(err));
    }
  });
  if (failures.size > 0) {
    const counts = [...failures].map(([k, n]) => `${n} × ${k}`).join(", ");
    throw new LoadFailure(`${counts} out of ${bodies.length} requests; first: ${firstFailure}`);
  }
  return { events: bodies.length * perBody, seconds, latencies };
}

/**
 * The floor of single-event ingest (issue 16): POSTs every body, with the same headers, to a path no route serves,
 * so the same HTTP stack (sockets, HTTP parsing, the request log and metrics middleware, routing, a problem+json
 * answer) does everything but the work. Each answer must be that 404.
 */
export async function noopPosts(http: HttpPool, apiKey: string, bodies: readonly Buffer[], clients: number): Promise<LoadResult> {
  const latencies = new Float64Array(bodies.length);
  let failures = 0;
  let first: string | undefined;
  const headers = { authorization: `Bearer ${apiKey}`, "content-type": "application/json" };
  const seconds = await concurrently(bodies.length, clients, async (i) => {
    const t0 = performance.now();
    try {
      const res = await http.request({ path: "/v1/noop", method: "POST", headers, body: bodies[i]! });
      const text = await res.body.text();
      latencies[i] = performance.now() - t0;
      if (res.statusCode !== 404) {
        failures += 1;
        first ??= `HTTP ${res.statusCode}: ${text.slice(0, 300)}`;
      }
    } catch (err) {
      latencies[i] = performance.now() - t0;
      failures += 1;
      first ??= String(err);
    }
  });
  if (failures > 0) throw new LoadFailure(`${failures} out of ${bodies.length} no-op requests failed; first: ${first}`);
  return { events: bodies.length, seconds, latencies };
}

/** Opens `n` database connections (outside any timed window; the caller ends them after measuring). */
export async function connectAll(url: string, n: number): Promise<pg.Client[]> {
  return Promise.all(Array.from({ length: n }, async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    return c;
  }));
}

/** One `COPY … FROM STDIN` (text format) of a fully pre-computed payload, on one connection, autocommit. */
export async function copyIngest(client: pg.Client, payload: Buffer, rows: number, table = "events"): Promise<LoadResult> {
  const seconds = await copyInto(client, table, payload, rows).catch((err: unknown) => {
    throw new LoadFailure(String((err as Error).message));
  });
  return { events: rows, seconds, latencies: new Float64Array(0) };
}

/**
 * Single-row autocommit INSERTs (a prepared statement, one row per statement, so one commit and one WAL flush
 * wait per row) from every given connection at once, each taking the next pre-computed row.
 */
export async function insertIngest(clients: readonly pg.Client[], events: readonly StoredEvent[]): Promise<LoadResult> {
  const text = `INSERT INTO events (${eventColumns.join(", ")}) VALUES (${eventColumns.map((_, i) => `$${i + 1}`).join(", ")})`;
  const rows = events.map(eventToRow);
  const latencies = new Float64Array(rows.length);
  const seconds = await concurrently(rows.length, clients.length, async (i, loop) => {
    const t0 = performance.now();
    const res = await clients[loop]!.query({ name: "bench_insert_event", text, values: rows[i]! });
    latencies[i] = performance.now() - t0;
    if (res.rowCount !== 1) throw new LoadFailure(`INSERT of row ${i} stored ${res.rowCount} rows`);
  });
  return { events: rows.length, seconds, latencies };
}
