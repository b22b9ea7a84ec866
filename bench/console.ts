/**
 * Console benchmark (issue 11, item 6), in Debian's chromium against the API server as a child process on one
 * tenant of BENCH_CONSOLE_EVENTS (default 1,000,000) generated events. Prints: time from navigation to the first
 * rows visible (unfiltered, filtered, free text; BENCH_CONSOLE_RUNS runs each, fresh page each time), the gzip size
 * of the console's scripts and styles against the 200 KB budget, and the frame times (requestAnimationFrame
 * deltas) while scrolling through 10,000 loaded rows, then the page's JS heap and a traced 600 px-a-frame scroll
 * (major GCs, main-thread CPU per frame: figures that barely depend on the machine's load). Not a timed test.
 * `node bench/console.ts`.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { request } from "undici";
import type { Browser, Page } from "playwright-core";
import { launchBrowser } from "../test/support/browser.ts";
import { frameCosts, type TraceEvent } from "./lib/chrome-trace.ts";
import { freshBenchDatabase } from "./lib/database.ts";
import { generateTenantEvents } from "./lib/generate.ts";
import { startServerProcess } from "./lib/server.ts";
import { fmtInt, fmtMs, intEnv, markdownTable, percentile, table } from "./lib/stats.ts";

const events = intEnv("BENCH_CONSOLE_EVENTS", 1_000_000);
const runs = intEnv("BENCH_CONSOLE_RUNS", 10);
const scrollRows = intEnv("BENCH_CONSOLE_SCROLL_ROWS", 10_000);
const budgetBytes = 200 * 1024;
const tenant = "bench";
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);
const root = path.resolve(import.meta.dirname, "..");

/** Scripts and styles as the browser downloads them, gzip-compressed (level 9, as a static server would). */
function bundleSizes(): { file: string; raw: number; gzip: number }[] {
  const dir = path.join(root, "console/dist/assets");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".js") || f.endsWith(".css"))
    .map((f) => {
      const body = readFileSync(path.join(dir, f));
      return { file: f, raw: body.length, gzip: gzipSync(body, { level: 9 }).length };
    });
}

/** Milliseconds from starting the navigation until the first table row is visible. */
async function firstRows(page: Page, url: string): Promise<number> {
  await page.goto("about:blank");
  const t0 = performance.now();
  await page.goto(url, { waitUntil: "commit" });
  await page.getByRole("button", { name: /^Details of event \d+$/ }).first().waitFor();
  return performance.now() - t0;
}

/** Frame deltas with nothing happening: the floor this browser and machine give (software rendering, shared CPU). */
async function idleFrames(page: Page): Promise<number[]> {
  return (await page.evaluate(`new Promise((resolve) => {
    const deltas = [];
    let last = performance.now();
    const step = (now) => {
      deltas.push(now - last);
      last = now;
      if (deltas.length > 180) return resolve(deltas.slice(1));
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  })`)) as number[];
}

/** Loads `rows` rows by scrolling (once per page). */
async function loadRows(page: Page, rows: number): Promise<void> {
  await page.goto("/audit-logs");
  const status = page.getByRole("status").filter({ hasText: /events loaded/ });
  await status.waitFor();
  const count = async () => Number(/^([\d,]+) events loaded/.exec((await status.textContent()) ?? "")?.[1]?.replaceAll(",", "") ?? 0);
  // Scrolling to the end loads the next keyset page, as a person scrolling would.
  for (let n = await count(); n < rows; ) {
    await page.evaluate(`(() => { const el = document.querySelector(".table-scroller"); el.scrollTop = el.scrollHeight; })()`);
    const before = n;
    for (let wait = 0; wait < 200 && n === before; wait++) {
      await page.waitForTimeout(50);
      n = await count();
    }
    if (n === before) throw new Error(`stuck at ${n} loaded rows`);
  }
}

interface ScrollRun {
  deltas: number[];
  /** Elements the page created while scrolling (rows entering the view); a measure of DOM churn and GC that, unlike frame times, does not depend on the machine's load. */
  created: number;
  rows: number;
}

/** Scrolls the loaded rows top to bottom at `px` pixels a frame, recording the frame deltas and the elements created. */
async function scrollFrames(page: Page, px: number): Promise<ScrollRun> {
  return (await page.evaluate(`new Promise((resolve) => {
    const el = document.querySelector(".table-scroller");
    el.scrollTop = 0;
    const seen = new WeakSet();
    for (const n of el.querySelectorAll("*")) seen.add(n);
    let created = 0;
    const mo = new MutationObserver((records) => {
      for (const r of records) for (const n of r.addedNodes) {
        if (!(n instanceof Element)) continue;
        for (const d of [n, ...n.querySelectorAll("*")]) if (!seen.has(d)) { seen.add(d); created++; }
      }
    });
    mo.observe(el, { childList: true, subtree: true });
    const deltas = [];
    let last = performance.now();
    const step = (now) => {
      deltas.push(now - last);
      last = now;
      if (el.scrollTop + el.clientHeight >= el.scrollHeight - 1 || deltas.length > 5000) {
        mo.disconnect();
        return resolve({ deltas: deltas.slice(1), created, rows: Math.round(el.scrollTop / 40) });
      }
      el.scrollTop += ${px};
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  })`)) as ScrollRun;
}

/** The page's JS heap after two full GCs, with every row it loaded: what each major GC has to mark. */
async function liveHeap(page: Page): Promise<{ mib: number; rows: number }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("HeapProfiler.collectGarbage");
  await cdp.send("HeapProfiler.collectGarbage");
  const { usedSize } = await cdp.send("Runtime.getHeapUsage");
  await cdp.detach();
  const status = (await page.getByRole("status").filter({ hasText: /events loaded/ }).textContent()) ?? "";
  return { mib: usedSize / 1_048_576, rows: Number(/^([\d,]+)/.exec(status)?.[1]?.replaceAll(",", "") ?? 0) };
}

/**
 * The same scroll again under a Chrome trace, for figures that barely depend on the machine's load (thread CPU
 * time, not wall time): main-thread CPU per frame, style and layout, script (`frames`); the major GCs (`gc`).
 */
async function tracedScroll(browser: Browser, page: Page, px: number, what: "frames" | "gc") {
  const categories = what === "frames" ? ["devtools.timeline", "toplevel"] : ["v8", "disabled-by-default-v8.gc"];
  await browser.startTracing(page, { categories });
  await scrollFrames(page, px);
  const { traceEvents } = JSON.parse((await browser.stopTracing()).toString()) as { traceEvents: TraceEvent[] };
  return frameCosts(traceEvents);
}

const build = spawnSync(process.execPath, [path.join(root, "scripts/build-console.ts"), "--force"], { stdio: ["ignore", "ignore", "inherit"] });
if (build.status !== 0) throw new Error("building the console failed");
const sizes = bundleSizes();
const totalGzip = sizes.reduce((s, f) => s + f.gzip, 0);

const db = await freshBenchDatabase();
try {
  log(`generating ${fmtInt(events)} events…`);
  const t0 = performance.now();
  await generateTenantEvents(db.pool, db.url, tenant, events, { log: (m) => (Number(m.split(" ")[1]) % 200_000 === 0 ? log(m) : undefined) });
  const genSeconds = (performance.now() - t0) / 1000;
  log(`generated in ${genSeconds.toFixed(1)} s; VACUUM ANALYZE…`);
  await db.pool.query("VACUUM ANALYZE events");
  const server = await startServerProcess({ databaseUrl: db.url, workDir: db.workDir, cpuProfile: false, env: { LOG_LEVEL: "warn", TRAILKEEPER_CHECKPOINT_EVERY_SECONDS: "3600", TRAILKEEPER_CHECKPOINT_EVERY_EVENTS: "100000000" } });
  const browser = await launchBrowser();
  try {
    const k = await request(`${server.url}/v1/admin/tenants/${tenant}/api-keys`, { method: "POST", headers: { authorization: `Bearer ${server.adminToken}`, "content-type": "application/json" }, body: JSON.stringify({ scopes: ["events:read", "events:export", "integrity:read"] }) });
    const key = ((await k.body.json()) as { key: string }).key;
    const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto("/signin");
    await page.getByLabel("API key").fill(key);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Audit Logs" }).waitFor();
    const sample = (await db.pool.query<{ actor_id: string }>("SELECT actor_id FROM events WHERE tenant = $1 AND seq = $2", [tenant, Math.floor(events / 2)])).rows[0]!;

    const views: [string, string][] = [
      ["newest events (no filter)", "/audit-logs"],
      ["action:auth.* outcome:failure", `/audit-logs?q=${encodeURIComponent("action:auth.* outcome:failure")}`],
      [`actor:${sample.actor_id}`, `/audit-logs?q=${encodeURIComponent(`actor:${sample.actor_id}`)}`],
      ["category secrets, last 7 days", "/audit-logs?category=secrets&range=7d"],
    ];
    const rows: string[][] = [];
    for (const [name, url] of views) {
      await firstRows(page, url);
      const samples: number[] = [];
      for (let i = 0; i < runs; i++) samples.push(await firstRows(page, url));
      rows.push([name, fmtMs(percentile(samples, 50)), fmtMs(percentile(samples, 95)), fmtMs(Math.max(...samples))]);
    }
    const firstHeader = ["view (first rows visible after navigation)", "p50 ms", "p95 ms", "max ms"];

    log(`loading ${fmtInt(scrollRows)} rows and scrolling…`);
    await loadRows(page, scrollRows);
    // Deltas quantise to vsync multiples (16.7, 33.3, 50 ms): count the frames at or over the 50 ms target too.
    const frameRow = (name: string, f: number[], run?: ScrollRun) => [
      name, fmtInt(f.length), fmtMs(percentile(f, 50)), fmtMs(percentile(f, 95)), fmtMs(Math.max(...f)), fmtInt(f.filter((d) => d >= 49.5).length),
      run === undefined ? "" : `${fmtInt(run.created)} (${(run.created / Math.max(1, run.rows)).toFixed(1)}/row)`,
    ];
    const scrollRow = async (px: number) => {
      const run = await scrollFrames(page, px);
      return frameRow(`scrolling ${fmtInt(run.rows)} rows, ${px} px (${px / 40} rows) a frame`, run.deltas, run);
    };
    const frameRows = [await scrollRow(200), await scrollRow(600), frameRow("idle (the same page, no scrolling)", await idleFrames(page))];
    const frameHeader = ["frame deltas (requestAnimationFrame)", "frames", "p50 ms", "p95 ms", "max ms", "frames ≥ 50 ms", "elements created"];
    const heap = await liveHeap(page);
    const gc = await tracedScroll(browser, page, 600, "gc");
    const costs = await tracedScroll(browser, page, 600, "frames");
    const cpuRows = [
      [`JS heap after GC, ${fmtInt(heap.rows)} rows loaded`, `${heap.mib.toFixed(1)} MiB`],
      ["major GCs (longest main-thread pause, CPU)", `${gc.majorGcs} (${fmtMs(gc.longestGcMs)} ms)`],
      ["main-thread CPU a frame: p50 / p99 / max", `${fmtMs(percentile(costs.cpuPerFrame, 50))} / ${fmtMs(percentile(costs.cpuPerFrame, 99))} / ${fmtMs(Math.max(...costs.cpuPerFrame))} ms`],
      ["frames over 33 ms of main-thread CPU", `${fmtInt(costs.cpuPerFrame.filter((c) => c > 100 / 3).length)} of ${fmtInt(costs.cpuPerFrame.length)}`],
      ["style and layout / script a frame (mean CPU)", `${fmtMs(costs.layoutMs)} / ${fmtMs(costs.scriptMs)} ms`],
    ];
    const cpuHeader = ["600 px a frame again, twice, traced (CPU time: barely load-dependent)", "value"];
    const sizeHeader = ["asset", "bytes", "gzip bytes"];
    const sizeRows = [...sizes.map((s) => [s.file.replace(/-[\w-]{8}\./, "-<hash>."), fmtInt(s.raw), fmtInt(s.gzip)]), ["total (budget 204,800)", fmtInt(sizes.reduce((s, f) => s + f.raw, 0)), fmtInt(totalGzip)]];

    // Frame times depend on what else the machine runs: print its load beside them.
    process.stdout.write(`\nConsole over ${fmtInt(events)} events (generated in ${genSeconds.toFixed(0)} s), ${runs} runs per view; load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}\n${table(firstHeader, rows)}\n\n${table(frameHeader, frameRows)}\n\n${table(cpuHeader, cpuRows)}\n\n${table(sizeHeader, sizeRows)}\n`);
    process.stdout.write(`\nMarkdown for docs/performance.md:\n\n${markdownTable(firstHeader, rows)}\n\n${markdownTable(frameHeader, frameRows)}\n\n${markdownTable(cpuHeader, cpuRows)}\n\n${markdownTable(sizeHeader, sizeRows)}\n`);
    if (totalGzip > budgetBytes) process.stdout.write(`\nOVER BUDGET: ${fmtInt(totalGzip)} gzip bytes > ${fmtInt(budgetBytes)}\n`);
    await context.close();
  } finally {
    await browser.close();
    await server.stop();
  }
} finally {
  await db.close();
}
