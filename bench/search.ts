/**
 * Search, export and verification benchmark (issue 3), on one tenant of BENCH_SEARCH_EVENTS (default 1,000,000)
 * generated events. Prints, in one run: p50/p95 of ten filtered and three free-text searches through the API;
 * the free-text ones again with the newest 10,000, 50,000 and 100,000 events not yet indexed (ADR 9);
 * export rows/s and the server's peak RSS beside `COPY (…) TO STDOUT WITH CSV` on the same rows; verification
 * events/s beside raw SHA-256 throughput. Not a timed test. `node bench/search.ts`.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import { request } from "undici";
import { canonicalJson } from "../core/src/events/canonical.ts";
import { eventFilterSchema } from "../core/src/search/filters.ts";
import { planSearch, searchQuery } from "../core/src/search/query.ts";
import { eventSelectList, rowToEvent, type EventRow } from "../core/src/db/event-rows.ts";
import { freshBenchDatabase } from "./lib/database.ts";
import { generateTenantEvents } from "./lib/generate.ts";
import { createTenant, startServerProcess } from "./lib/server.ts";
import { fmtInt, fmtMs, intEnv, markdownTable, percentile, table } from "./lib/stats.ts";

const events = intEnv("BENCH_SEARCH_EVENTS", 1_000_000);
const runs = intEnv("BENCH_SEARCH_RUNS", 40);
/** Unindexed tails to measure free text with (comma-separated event counts; empty: none). */
const backlogs = (process.env.BENCH_SEARCH_BACKLOGS ?? "10000,50000,100000").split(",").filter(Boolean).map(Number);
const tenant = "bench";
/**
 * The heap cap the chart gives the API server (charts/trailkeeper values apiServer.nodeOptions). In a container
 * Node derives its heap limit from the memory limit; on this 24 GiB machine it would not, and V8 would let
 * garbage pile up far past what the pod is allowed.
 */
const serverNodeOptions = process.env.BENCH_SERVER_NODE_OPTIONS ?? "--max-old-space-size=128 --max-semi-space-size=4";
/** The malloc arenas the chart and the image allow the API server (values apiServer.mallocArenaMax); empty: glibc's default. */
const serverMallocArenaMax = process.env.BENCH_SERVER_MALLOC_ARENA_MAX ?? "2";
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);
const peakRssMiB = (pid: number) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

const db = await freshBenchDatabase();
try {
  log(`generating ${events} events…`);
  const t0 = performance.now();
  await generateTenantEvents(db.pool, db.url, tenant, events, { log: (m) => (Number(m.split(" ")[1]) % 200_000 === 0 ? log(m) : undefined) });
  log(`generated in ${((performance.now() - t0) / 1000).toFixed(1)} s; VACUUM ANALYZE…`);
  await db.pool.query("VACUUM ANALYZE events, search_documents");
  const sample = rowToEvent((await db.pool.query<EventRow>(`SELECT ${eventSelectList} FROM events WHERE tenant = $1 AND seq = $2`, [tenant, Math.floor(events / 3)])).rows[0]!);
  const sampleActorName = (await db.pool.query<{ actor_name: string }>("SELECT actor_name FROM events WHERE tenant = $1 AND actor_name IS NOT NULL AND seq > $2 ORDER BY seq LIMIT 1", [tenant, Math.floor(events / 2)])).rows[0]!.actor_name;
  const traceFragment = String((sample.details as { traceId: string }).traceId).slice(0, 12);
  const day = new Date(Date.now() - 10 * 86_400_000);

  const server = await startServerProcess({ databaseUrl: db.url, workDir: db.workDir, cpuProfile: false, env: { LOG_LEVEL: "warn", TRAILKEEPER_CHECKPOINT_EVERY_SECONDS: "3600", TRAILKEEPER_CHECKPOINT_EVERY_EVENTS: "100000000", TRAILKEEPER_SEARCH_INDEX_IDLE_MS: "3600000", NODE_OPTIONS: serverNodeOptions, ...(serverMallocArenaMax ? { MALLOC_ARENA_MAX: serverMallocArenaMax } : {}) } });
  try {
    const key = (await createTenant(server, tenant, ["events:read", "events:export", "integrity:read"]).catch(async () => undefined)) ?? (await keyForExisting(server.url, server.adminToken));
    const get = async (path: string) => {
      const t = performance.now();
      const r = await request(`${server.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
      const body = await r.body.text();
      if (r.statusCode !== 200) throw new Error(`${path}: ${r.statusCode} ${body.slice(0, 300)}`);
      return { ms: performance.now() - t, body };
    };

    const searches: [string, string, "filter" | "text"][] = [
      ["newest page, no filter", "", "filter"],
      ["category=secrets", "category=secrets", "filter"],
      ["action=auth.* & outcome=failure", "action=auth.*&outcome=failure", "filter"],
      ["actor=user-42", "actor=user-42", "filter"],
      ["ip=10.20.0.0/16", "ip=10.20.0.0/16", "filter"],
      ["resource=payments-42 (a name)", "resource=payments-42", "filter"],
      ["resourceType=database", "resourceType=database", "filter"],
      [`actor=${sampleActorName} (a name)`, `actor=${encodeURIComponent(sampleActorName)}`, "filter"],
      ["category=audit (no events)", "category=audit", "filter"],
      ["one day & category=auth", `from=${day.toISOString()}&to=${new Date(day.getTime() + 86_400_000).toISOString()}&category=auth`, "filter"],
      ["q=OPS-4242 (rare)", "q=OPS-4242", "text"],
      ["q=quarterly (common)", "q=quarterly", "text"],
      [`q=${traceFragment} (unique)`, `q=${traceFragment}`, "text"],
    ];
    const rows: string[][] = [];
    const plans: string[] = [];
    for (const [label, qs, kind] of searches) {
      for (let i = 0; i < 3; i++) await get(`/v1/events?limit=50&${qs}`);
      const lat: number[] = [];
      let hits = 0;
      for (let i = 0; i < runs; i++) {
        const r = await get(`/v1/events?limit=50&${qs}`);
        lat.push(r.ms);
        hits = (JSON.parse(r.body) as { events: unknown[] }).events.length;
      }
      const target = kind === "filter" ? 50 : 300;
      const p95 = percentile(lat, 95);
      rows.push([label, kind, String(hits), fmtMs(percentile(lat, 50)), fmtMs(p95), `< ${target}`, p95 < target ? "met" : "MISSED"]);
      const filter = eventFilterSchema.parse(Object.fromEntries(new URLSearchParams(qs)));
      const q = searchQuery(tenant, filter, 51, undefined, ...(await planSearch(db.pool, tenant, filter)));
      const plan = (await db.pool.query<{ "QUERY PLAN": string }>(`EXPLAIN ${q.text}`, q.values)).rows.map((r) => r["QUERY PLAN"]);
      plans.push(`${label}:\n  ${plan.filter((l) => /Scan|Sort|Limit/.test(l)).map((l) => l.trim()).join("\n  ")}`);
    }
    const searchHeader = ["search (limit 50)", "kind", "hits", "p50 ms", "p95 ms", "target", ""];
    process.stdout.write(`\nSearch over ${fmtInt(events)} events (${runs} runs each)\n${table(searchHeader, rows)}\n\nQuery plans (EXPLAIN):\n${plans.join("\n")}\n`);

    // Free text while the search indexer is behind (ADR 9): the newest `backlog` events count as unindexed, so
    // their documents are computed per search, as during a burst of appends. The server's indexer sleeps (its
    // pause is an hour), so the mark stays where it is put.
    const backlogRows: string[][] = [];
    for (const backlog of backlogs.filter((b) => b < events)) {
      await db.pool.query("UPDATE search_index_heads SET seq = seq - $2 WHERE tenant = $1", [tenant, backlog]);
      for (const [label, qs, kind] of searches.filter(([, , k]) => k === "text")) {
        const lat: number[] = [];
        for (let i = 0; i < Math.min(runs, 10); i++) lat.push((await get(`/v1/events?limit=50&${qs}`)).ms);
        const p95 = percentile(lat, 95);
        backlogRows.push([fmtInt(backlog), label, kind, fmtMs(percentile(lat, 50)), fmtMs(p95), p95 < 300 ? "< 300" : "over 300"]);
      }
      await db.pool.query("UPDATE search_index_heads SET seq = seq + $2 WHERE tenant = $1", [tenant, backlog]);
    }
    if (backlogRows.length) {
      const backlogHeader = ["unindexed events", "search (limit 50)", "kind", "p50 ms", "p95 ms", "vs 300 ms"];
      process.stdout.write(`\nFree text while the search indexer is behind (the newest events' documents computed per search)\n${table(backlogHeader, backlogRows)}\n`);
      process.stdout.write(`\nMarkdown:\n\n${markdownTable(backlogHeader, backlogRows)}\n`);
    }

    // Export through the API (server in its own process) beside COPY … TO STDOUT on the same rows.
    const before = peakRssMiB(server.pid);
    const te = performance.now();
    const res = await request(`${server.url}/v1/events/export?format=csv`, { headers: { authorization: `Bearer ${key}` } });
    let bytes = 0;
    for await (const chunk of res.body) bytes += (chunk as Buffer).length;
    const exportSec = (performance.now() - te) / 1000;
    const exportPeak = peakRssMiB(server.pid);
    const copyClient = new pg.Client({ connectionString: db.url });
    await copyClient.connect();
    const tc = performance.now();
    let copyBytes = 0;
    const stream = copyClient.query(copyTo(`COPY (SELECT ${eventSelectList} FROM events WHERE tenant = '${tenant}' ORDER BY seq) TO STDOUT WITH CSV`));
    for await (const chunk of stream) copyBytes += (chunk as Buffer).length;
    const copySec = (performance.now() - tc) / 1000;
    await copyClient.end();
    const exportRate = events / exportSec;
    const copyRate = events / copySec;

    // JSONL export (no target: the format the offline verifier reads), after the CSV one.
    const tj = performance.now();
    const jres = await request(`${server.url}/v1/events/export?format=jsonl`, { headers: { authorization: `Bearer ${key}` } });
    let jsonlBytes = 0;
    for await (const chunk of jres.body) jsonlBytes += (chunk as Buffer).length;
    const jsonlRate = events / ((performance.now() - tj) / 1000);
    const jsonlPeak = peakRssMiB(server.pid);

    // Verification through the API beside raw SHA-256 over the same canonical bytes.
    const tv = performance.now();
    const verify = JSON.parse((await get("/v1/integrity/verify")).body) as { ok: boolean; checked: number };
    const verifySec = (performance.now() - tv) / 1000;
    if (!verify.ok) throw new Error(`verification failed: ${JSON.stringify(verify)}`);
    const canonical = Buffer.from(canonicalJson((({ hash: _h, ...rest }) => rest)(sample)));
    const th = performance.now();
    for (let i = 0; i < events; i++) createHash("sha256").update(canonical).digest();
    const shaRate = events / ((performance.now() - th) / 1000);
    const verifyRate = verify.checked / verifySec;

    const limitRows = [
      ["export CSV (API, streamed)", fmtInt(exportRate), `${fmtInt(copyRate)} (COPY TO STDOUT CSV)`, `${(exportRate / copyRate).toFixed(2)}× (≥ 0.5×)`, exportRate >= copyRate / 2 ? "met" : "MISSED"],
      ["export peak RSS (server)", `${exportPeak.toFixed(0)} MiB`, `${before.toFixed(0)} MiB before`, "< 200 MiB", exportPeak < 200 ? "met" : "MISSED"],
      ["export JSONL (API, streamed)", fmtInt(jsonlRate), `${fmtInt(copyRate)} (COPY TO STDOUT CSV)`, `${(jsonlRate / copyRate).toFixed(2)}× (no target)`, ""],
      ["peak RSS after both exports", `${jsonlPeak.toFixed(0)} MiB`, "", "< 200 MiB", jsonlPeak < 200 ? "met" : "MISSED"],
      ["verification", fmtInt(verifyRate), `${fmtInt(shaRate)} (raw SHA-256, ${canonical.length} B)`, "≥ 100,000/s", verifyRate >= 100_000 ? "met" : "MISSED"],
    ];
    const limitHeader = ["measure", "events/s or value", "limit in the same run", "target", ""];
    process.stdout.write(`\n${table(limitHeader, limitRows)}\n  export bytes ${fmtInt(bytes)} in ${exportSec.toFixed(1)} s; COPY bytes ${fmtInt(copyBytes)} in ${copySec.toFixed(1)} s; JSONL bytes ${fmtInt(jsonlBytes)}\n`);
    process.stdout.write(`\nMarkdown for docs/performance.md:\n\n${markdownTable(searchHeader, rows)}\n\n${markdownTable(limitHeader, limitRows)}\n`);
  } finally {
    await server.stop();
  }
} finally {
  await db.close();
}

/** The tenant already exists (generated by SQL), so make a key for it through the admin API. */
async function keyForExisting(url: string, adminToken: string): Promise<string> {
  const r = await request(`${url}/v1/admin/tenants/${tenant}/api-keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ scopes: ["events:read", "events:export", "integrity:read"] }),
  });
  const body = (await r.body.json()) as { key: string };
  return body.key;
}
