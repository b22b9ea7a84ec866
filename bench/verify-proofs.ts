/**
 * Offline verification of a proof-carrying export (issue 15: ≥ 100,000 events/s), end to end on real data: one
 * tenant of BENCH_PROOF_EXPORT_EVENTS (default 200,000) generated events behind the API server, a signed Merkle
 * checkpoint, the JSONL export and proof bundles for every event (POST /v1/integrity/proofs, 10,000 seqs each).
 * Times, in process, what `trailkeeper verify` does with them: the chain walk alone (export + checkpoints), and the
 * chain walk with every event's inclusion proof checked. Not a timed test. `node bench/verify-proofs.ts`.
 */
import { request } from "undici";
import { verifyExport } from "../core/src/integrity/offline-verify.ts";
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
    const call = async (path: string, body?: unknown) => {
      const r = await request(`${server.url}${path}`, { method: body === undefined ? "GET" : "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      const text = await r.body.text();
      if (r.statusCode !== 200) throw new Error(`${path}: ${r.statusCode} ${text.slice(0, 300)}`);
      return text;
    };
    // The export is recorded in the trail (its opening audit.export record is in the file): take it first, then wait
    // for a checkpoint that covers its last event.
    const exportText = await call("/v1/events/export?format=jsonl");
    const lastSeq = (JSON.parse(exportText.trimEnd().split("\n").at(-1)!) as { seq: number }).seq;
    log("waiting for a signed Merkle checkpoint of every event…");
    // The tenant also holds the trail's own records (the key created above): the checkpoint's size counts them.
    let total = 0;
    for (let i = 0; ; i++) {
      const answer = await call("/v1/integrity/checkpoints/latest").catch((err: Error) => JSON.stringify({ error: err.message }));
      const latest = JSON.parse(answer) as { seq?: number; root?: string };
      if (latest.seq !== undefined && latest.seq >= lastSeq && latest.root) {
        total = lastSeq;
        break;
      }
      if (i > 600) throw new Error(`no checkpoint of the whole tenant after 60 s: ${answer.slice(0, 300)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const notes = (JSON.parse(await call("/v1/integrity/checkpoints")) as { checkpoints: { note: string }[] }).checkpoints.map((c) => c.note);
    const pub = JSON.parse(await call("/v1/integrity/public-key")) as { vkey: string };
    const verifier = parseVerifierKey(pub.vkey);
    log(`fetching ${Math.ceil(total / bundleSize)} proof bundles…`);
    const bundles: string[] = [];
    for (let from = 1; from <= total; from += bundleSize) {
      bundles.push(await call("/v1/integrity/proofs", { seqs: Array.from({ length: Math.min(bundleSize, total - from + 1) }, (_, i) => from + i) }));
    }
    const time = (name: string, run: () => { proven: number; exitCode: number }) => {
      const rates: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        const report = run();
        rates.push(total / ((performance.now() - t) / 1000));
        if (report.exitCode !== 0) throw new Error(`${name}: verification failed: ${JSON.stringify(report).slice(0, 500)}`);
      }
      log(`${name}: ${rates.map(fmtInt).join(", ")} events/s`);
      return [name, fmtInt(Math.max(...rates)), fmtInt(rates.reduce((a, b) => a + b) / rates.length)];
    };
    const rows = [
      time("chain walk (export + signed checkpoints)", () => verifyExport(exportText, { notes, verifier })),
      time("chain walk + every event's inclusion proof", () => {
        const r = verifyExport(exportText, { notes, verifier, proofBundles: bundles });
        if (r.proven !== total) throw new Error(`proved ${r.proven} of ${total}`);
        return r;
      }),
    ];
    const header = [`offline verification of ${fmtInt(total)} events (JSONL ${fmtInt(exportText.length)} B, ${runs} runs)`, "best events/s", "mean events/s"];
    process.stdout.write(`\n${table(header, rows)}\n  target ≥ 100,000 events/s with proofs\n\nMarkdown for docs/performance.md:\n\n${markdownTable(header, rows)}\n`);
  } finally {
    await server.stop();
  }
} finally {
  await db.close();
}
