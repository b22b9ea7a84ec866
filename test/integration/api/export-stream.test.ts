import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { once } from "node:events";
import path from "node:path";
import yaml from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../../core/src/db/embedded.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { bulkAppend } from "../../support/bulk.ts";
import { call, tenantWithKey, testAdminToken, testSigningKeyFile } from "../../support/api.ts";

const events = Number(process.env.TK_EXPORT_TEST_EVENTS ?? 250_000);
let db: TestDatabase;
let server: ChildProcess;
let base: string;
let key: string;

/** Peak resident set size of a process so far (VmHWM), in MiB. */
const peakRssMiB = (pid: number) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

/** The server runs with the memory settings the chart gives it (values.yaml apiServer.nodeOptions, mallocArenaMax). */
function chartMemoryEnv(): { NODE_OPTIONS: string; MALLOC_ARENA_MAX: string } {
  const values = yaml.load(readFileSync(path.resolve(import.meta.dirname, "../../../charts/trailkeeper/values.yaml"), "utf8")) as { apiServer: { nodeOptions: string; mallocArenaMax: number } };
  return { NODE_OPTIONS: values.apiServer.nodeOptions, MALLOC_ARENA_MAX: String(values.apiServer.mallocArenaMax) };
}

beforeAll(async () => {
  db = await freshDatabase();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  // A separate process, so that its peak RSS measures the server alone.
  server = spawn(process.execPath, [path.resolve(import.meta.dirname, "../../../api-server/src/main.ts")], {
    env: { ...process.env, ...chartMemoryEnv(), PORT: String(port), HOST: "127.0.0.1", DATABASE_URL: db.url, TRAILKEEPER_ADMIN_TOKEN: testAdminToken, TRAILKEEPER_SIGNING_KEY_FILE: await testSigningKeyFile(db), LOG_LEVEL: "warn" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  for (let i = 0; i < 100 && (await call(base, "GET", "/readyz").catch(() => ({ status: 0 }))).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
  key = await tenantWithKey(base, "big", ["events:export", "events:write"]);
  await bulkAppend(db.pool, "big", events);
}, 300_000);

afterAll(async () => {
  server?.kill("SIGTERM");
  if (server && server.exitCode === null) await once(server, "exit");
  await db?.drop();
});

// Client backends only: PostgreSQL may run a COPY's query with parallel workers, which show the same query text.
const activeExportQueries = async () =>
  Number((await db.pool.query("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND state <> 'idle' AND (query LIKE 'COPY (SELECT %' OR query LIKE 'SELECT tenant, seq, id, %ORDER BY seq') AND pid <> pg_backend_pid()")).rows[0].n);

describe("export streaming", () => {
  // JSONL first: VmHWM is a high-water mark, so the second export is held to the first one's peak plus the bound.
  it.each([
    ["jsonl", 1 + events + 3],
    ["csv", 1 + 1 + events + 5],
  ] as const)(`exports ${events} events as %s with a flat memory profile`, async (format, expectedLines) => {
    if (format === "jsonl") {
      // Warm up: a small export, so the baseline includes the code paths.
      await (await fetch(`${base}/v1/events/export?format=jsonl&actor=user-1`, { headers: { authorization: `Bearer ${key}` } })).text();
    }
    const baseline = peakRssMiB(server.pid!);
    const res = await fetch(`${base}/v1/events/export?format=${format}`, { headers: { authorization: `Bearer ${key}` } });
    let bytes = 0;
    let lines = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      for (const b of chunk) if (b === 10) lines += 1;
    }
    const peak = peakRssMiB(server.pid!);
    // [CSV header] + apikey.create + events + the warm-up's and earlier exports' opening and closing records + this
    // export's opening record
    expect(lines).toBe(expectedLines);
    expect(bytes).toBeGreaterThan(events * 200);
    // Buffering the export would grow the server by at least the export's size (100 MB or more here). What does
    // grow is garbage — for CSV, Buffers passing through, which V8 collects once tens of MiB are outstanding
    // (measured +34 MiB at 150k events, +36 at 300k, +42–50 at 1M in bench/search.ts).
    const boundMiB = 64;
    expect(bytes / 2 ** 20, "the export must be larger than the bound, or buffering it could pass").toBeGreaterThan(boundMiB * 1.3);
    expect(peak - baseline).toBeLessThan(boundMiB);
    expect(peak).toBeLessThan(200);
  }, 120_000);

  it.each(["jsonl", "csv"])("stops the database query when the %s client disconnects", async (format) => {
    const ac = new AbortController();
    const res = await fetch(`${base}/v1/events/export?format=${format}`, { headers: { authorization: `Bearer ${key}` }, signal: ac.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    // Past the CSV header (written before the query starts): rows are flowing.
    for (let got = 0; got < 4096; ) {
      const { done, value } = await reader.read();
      if (done) throw new Error("the export ended before the test could disconnect");
      got += value.length;
    }
    expect(await activeExportQueries()).toBe(1);
    ac.abort();
    let n = 1;
    for (let i = 0; i < 50 && n > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      n = await activeExportQueries();
    }
    expect(n).toBe(0);
    // The server is still healthy and its pool usable.
    expect((await call(base, "GET", "/readyz")).status).toBe(200);
  }, 60_000);
});
