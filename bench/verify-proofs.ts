/**
 * Offline verification of a proof-carrying export (issue 15: ≥ 100,000 events/s), end to end on real data: one
 * tenant of BENCH_PROOF_EXPORT_EVENTS (default 200,000) generated events behind the API server, a signed Merkle
 * checkpoint, the JSONL export, proof bundles for every event (POST /v1/integrity/proofs, 10,000 seqs each) in
 * both formats (1: an audit path per event; 2: one multi-proof per bundle), the checkpoints and the public key, saved as files (BENCH_PROOF_EXPORT_DIR, default a new temporary directory).
 * BENCH_PROOF_EXPORT_FROM=<dir> reuses the files of an earlier run and starts no server.
 *
 * Then times, in one run and from the files, what `trailkeeper verify` does (read the files, parse, hash, walk,
 * proofs, checkpoints): the chain walk as it was before the fast path (every line parsed and re-canonicalised),
 * the chain walk, and the chain walk with every event's inclusion proof from either format; then the CLI itself in
 * a child process (`trailkeeper verify --proofs`, Node's start-up included). The load average is printed beside the numbers.
 * Not a timed test. `node bench/verify-proofs.ts`.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { request } from "undici";
import { readFileShared } from "../core/src/integrity/export-lines.ts";
import { notesFromCheckpointFile, parseExport, verifyParsedExport, type OfflineReport, type ParsedExport } from "../core/src/integrity/offline-verify.ts";
import { parseVerifierKey } from "../core/src/integrity/signing-key.ts";
import { freshBenchDatabase } from "./lib/database.ts";
import { generateTenantEvents } from "./lib/generate.ts";
import { createTenant, startServerProcess } from "./lib/server.ts";
import { fmtInt, intEnv, markdownTable, table } from "./lib/stats.ts";

const events = intEnv("BENCH_PROOF_EXPORT_EVENTS", 200_000);
const runs = intEnv("BENCH_PROOF_EXPORT_RUNS", 3);
const tenant = "bench";
const bundleSize = 10_000;
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);
const cli = path.resolve(import.meta.dirname, "../api-server/src/cli.ts");

const reuse = process.env.BENCH_PROOF_EXPORT_FROM;
const dir = reuse ?? process.env.BENCH_PROOF_EXPORT_DIR ?? mkdtempSync(path.join(tmpdir(), "tk-verify-proofs-"));
const files = {
  export: path.join(dir, "export.jsonl"),
  checkpoints: path.join(dir, "checkpoints.json"),
  key: path.join(dir, "public-key.json"),
  bundles: (format: 1 | 2) => readdirSync(dir).filter((f) => new RegExp(`^bundle-v${format}-\\d+\\.json$`).test(f)).sort().map((f) => path.join(dir, f)),
};
if (!reuse) {
  mkdirSync(dir, { recursive: true });
  await saveInputs();
}
log(`inputs in ${dir}`);
timeVerification();

/** Generates the tenant behind a server and saves what an auditor would be given. */
async function saveInputs(): Promise<void> {
  const db = await freshBenchDatabase();
  try {
    log(`generating ${fmtInt(events)} events…`);
    await generateTenantEvents(db.pool, db.url, tenant, events, { log: () => undefined });
    const server = await startServerProcess({ databaseUrl: db.url, workDir: db.workDir, cpuProfile: false, env: { LOG_LEVEL: "warn", TRAILKEEPER_CHECKPOINT_EVERY_SECONDS: "1" } });
    try {
      const key = await createTenant(server, tenant, ["events:read", "events:export", "integrity:read"]).catch(async () => {
        const r = await request(`${server.url}/v1/admin/tenants/${tenant}/api-keys`, { method: "POST", headers: { authorization: `Bearer ${server.adminToken}`, "content-type": "application/json" }, body: JSON.stringify({ scopes: ["events:read", "events:export", "integrity:read"] }) });
        return ((await r.body.json()) as { key: string }).key;
      });
      const call = async (p: string, body?: unknown) => {
        const r = await request(`${server.url}${p}`, { method: body === undefined ? "GET" : "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
        const text = await r.body.text();
        if (r.statusCode !== 200) throw new Error(`${p}: ${r.statusCode} ${text.slice(0, 300)}`);
        return text;
      };
      // The export is recorded in the trail (its opening audit.export record is in the file): take it first, then
      // wait for a checkpoint that covers its last event.
      const exportText = await call("/v1/events/export?format=jsonl");
      const lastSeq = (JSON.parse(exportText.trimEnd().split("\n").at(-1)!) as { seq: number }).seq;
      log("waiting for a signed Merkle checkpoint of every event…");
      for (let i = 0; ; i++) {
        const answer = await call("/v1/integrity/checkpoints/latest").catch((err: Error) => JSON.stringify({ error: err.message }));
        const latest = JSON.parse(answer) as { seq?: number; root?: string };
        if (latest.seq !== undefined && latest.seq >= lastSeq && latest.root) break;
        if (i > 600) throw new Error(`no checkpoint of the whole tenant after 60 s: ${answer.slice(0, 300)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      writeFileSync(files.export, exportText);
      writeFileSync(files.checkpoints, await call("/v1/integrity/checkpoints"));
      writeFileSync(files.key, await call("/v1/integrity/public-key"));
      log(`fetching ${Math.ceil(lastSeq / bundleSize)} proof bundles…`);
      for (let from = 1, i = 0; from <= lastSeq; from += bundleSize, i++) {
        const seqs = Array.from({ length: Math.min(bundleSize, lastSeq - from + 1) }, (_, j) => from + j);
        for (const format of [1, 2]) {
          writeFileSync(path.join(dir, `bundle-v${format}-${String(i).padStart(4, "0")}.json`), await call("/v1/integrity/proofs", { seqs, format: `trailkeeper-proofs/${format}` }));
        }
      }
    } finally {
      await server.stop();
    }
  } finally {
    await db.close();
  }
}

/** What `trailkeeper verify` does with the files (api-server/src/cli.ts), in process. */
function verifyFiles(proofs: 0 | 1 | 2, parse: (bytes: Buffer) => ParsedExport = parseExport): OfflineReport {
  const verifier = parseVerifierKey((JSON.parse(readFileSync(files.key, "utf8")) as { vkey: string }).vkey);
  const notes = notesFromCheckpointFile(readFileSync(files.checkpoints, "utf8"));
  const proofBundles = proofs === 0 ? [] : files.bundles(proofs).map((f) => readFileSync(f, "utf8"));
  return verifyParsedExport(parse(readFileShared(files.export)), { notes, verifier, proofBundles });
}

/** parseExport without, and with, the worker thread that checks half of the lines (by default: when a core is idle). */
function oneThread(bytes: Buffer): ParsedExport {
  return parseExport(bytes, { worker: false });
}

function twoThreads(bytes: Buffer): ParsedExport {
  return parseExport(bytes, { worker: true });
}

/** The parse before the fast path: every line through JSON.parse, so the walk re-canonicalises and hashes it. */
function parseEveryLine(bytes: Buffer): ParsedExport {
  return { format: "jsonl", events: bytes.toString("utf8").split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as ParsedExport["events"][number]) };
}

function timeVerification(): void {
  const total = verifyFiles(0).events;
  const load = () => loadavg().map((l) => l.toFixed(2)).join(" ");
  // Besides wall-clock time, the CPU time the verification used: on a machine shared with other work, events per
  // CPU-second tell what one free core would do.
  const inProcessCpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  let childCpu = 0;
  let childWall = 0;
  // The child's own elapsed time (GNU time), not the parent's spawnSync: forking this process, whose heap holds the
  // in-process runs' data, costs the parent time that is not the CLI's.
  const time = (name: string, run: () => OfflineReport, proofs: boolean, cpuOf: () => number = inProcessCpu, wallOf: () => number = () => performance.now() / 1000) => {
    const rates: number[] = [];
    const cpuRates: number[] = [];
    const before = load();
    for (let i = 0; i < runs; i++) {
      const t = wallOf();
      const c = cpuOf();
      const report = run();
      rates.push(total / (wallOf() - t));
      cpuRates.push(total / (cpuOf() - c));
      if (report.exitCode !== 0) throw new Error(`${name}: verification failed: ${JSON.stringify(report).slice(0, 500)}`);
      if (proofs && report.proven !== total) throw new Error(`${name}: proved ${report.proven} of ${total}`);
    }
    log(`${name}: ${rates.map(fmtInt).join(", ")} events/s, ${cpuRates.map(fmtInt).join(", ")} per CPU-second (load ${before} → ${load()})`);
    return [name, fmtInt(Math.max(...rates)), fmtInt(rates.reduce((a, b) => a + b) / rates.length), fmtInt(Math.max(...cpuRates)), `${before} → ${load()}`];
  };
  const cliRun = (format: 1 | 2) => {
    const args = [cli, "verify", files.export, "--checkpoint", files.checkpoints, "--public-key", files.key, "--json", ...files.bundles(format).flatMap((f) => ["--proofs", f])];
    // GNU time reports the child's CPU seconds and its elapsed time on the last line of stderr.
    const r = spawnSync("/usr/bin/time", ["-f", "%U %S %e", process.execPath, ...args], { encoding: "utf8", maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`trailkeeper verify exited ${r.status}: ${r.stderr.slice(0, 500)} ${r.stdout.slice(0, 500)}`);
    const [user, system, elapsed] = r.stderr.trim().split("\n").at(-1)!.split(" ").map(Number);
    childCpu += user! + system!;
    childWall += elapsed!;
    return JSON.parse(r.stdout) as OfflineReport;
  };
  const rows = [
    time("chain walk, every line parsed (as before the fast path)", () => verifyFiles(0, parseEveryLine), false),
    time("chain walk, one thread", () => verifyFiles(0, oneThread), false),
    time("chain walk, two threads", () => verifyFiles(0, twoThreads), false),
    time("chain walk + every event's inclusion proof, format 1 (audit paths)", () => verifyFiles(1), true),
    time("chain walk + every event's inclusion proof, format 2 (multi-proofs), one thread", () => verifyFiles(2, oneThread), true),
    time("chain walk + every event's inclusion proof, format 2 (multi-proofs), two threads", () => verifyFiles(2, twoThreads), true),
    time("trailkeeper verify --proofs, format 1 (child process, start-up included)", () => cliRun(1), true, () => childCpu, () => childWall),
    time("trailkeeper verify --proofs, format 2 (child process, start-up included)", () => cliRun(2), true, () => childCpu, () => childWall),
  ];
  const bytes = readFileSync(files.export).length;
  const header = [`offline verification of ${fmtInt(total)} events from files (JSONL ${fmtInt(bytes)} B, ${runs} runs)`, "best events/s", "mean events/s", "best events/CPU-s", "load average (1, 5, 15 min)"];
  process.stdout.write(`\n${table(header, rows)}\n  target ≥ 100,000 events/s with proofs\n\nMarkdown for docs/performance.md:\n\n${markdownTable(header, rows)}\n`);
}
