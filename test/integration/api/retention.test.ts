import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApiServer } from "../../../api-server/src/server.ts";
import { deleteThroughBoundary, sealBoundary } from "../../../api-server/src/services/retention.ts";
import { uuidv7 } from "../../../core/src/ids.ts";
import { verifyConsistency, verifyInclusion } from "../../../core/src/integrity/merkle.ts";
import { signCheckpoint } from "../../../core/src/integrity/checkpoint-note.ts";
import { loadSigningKey } from "../../../core/src/integrity/signing-key.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { appendReceivedAt } from "../../support/received-at.ts";
import { call, sampleEvent, startTestApi, tenantWithKey, testAdminToken, testSigningKeyFile } from "../../support/api.ts";

let db: TestDatabase;
let api: RunningApiServer;
const dir = mkdtempSync(path.join(tmpdir(), "tk-retention-"));
const cli = path.resolve(import.meta.dirname, "../../../api-server/src/cli.ts");
const admin = (method: string, p: string, body?: unknown) => call(api.url, method, `/v1/admin/tenants/${p}`, { token: testAdminToken, ...(body === undefined ? {} : { body }) });

// Checkpoints are forced explicitly, so periodic ones cannot interfere.
const env = { TRAILKEEPER_CHECKPOINT_EVERY_EVENTS: "1000000", TRAILKEEPER_CHECKPOINT_EVERY_SECONDS: "3600" };

beforeAll(async () => {
  db = await freshDatabase();
  api = await startTestApi(db, env);
  // Months long past, so that their partitions can expire.
  await db.pool.query("SELECT trailkeeper_ensure_event_partitions('2025-01-01', '2025-05-01')");
}, 120_000);
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

const appendOld = (tenant: string, n: number, at: string) => appendReceivedAt(db.pool, tenant, n, at);

const rows = async (tenant: string) =>
  (await db.pool.query<{ seq: string; action: string; details: string | null }>("SELECT seq, action, details FROM events WHERE tenant = $1 ORDER BY seq", [tenant])).rows.map((r) => ({ ...r, seq: Number(r.seq) }));

async function verifyEndpoint(key: string) {
  const res = await call(api.url, "GET", "/v1/integrity/verify", { token: key });
  expect(res.status).toBe(200);
  return res.body as { ok: boolean; checked: number; headSeq: number; prunedThrough?: number; failure?: { seq: number; reason: string; message: string } };
}

/** Runs SQL as a database superuser with the triggers in force (no session_replication_role). */
async function asSuperuser(sql: string, params: unknown[] = []) {
  const su = await db.superuser();
  try {
    return await su.query(sql, params);
  } finally {
    await su.end();
  }
}

const newTenant = async (tenant: string) => expect((await call(api.url, "POST", "/v1/admin/tenants", { token: testAdminToken, body: { id: tenant } })).status).toBe(201);

/** A tenant with 40 events in January 2025, 20 in February 2025 and 10 ingested now, and a key to read them. */
async function oldTrail(tenant: string): Promise<string> {
  await newTenant(tenant);
  await appendOld(tenant, 40, "2025-01-15T10:00:00Z");
  await appendOld(tenant, 20, "2025-02-10T10:00:00Z");
  // The key is made now, after the old events: its apikey.create event is the first one received now.
  const key = await tenantWithKey(api.url, tenant, ["events:write", "events:read", "events:export", "integrity:read"]);
  const res = await call(api.url, "POST", "/v1/events", { token: key, body: { events: Array.from({ length: 10 }, () => sampleEvent()) } });
  expect(res.status).toBe(201);
  return key;
}

describe("retention", () => {
  it("prunes only whole expired ranges, after a sealing checkpoint recorded in the chain, and verifies from the boundary", async () => {
    const key = await oldTrail("ret-a");
    // Another tenant's rows in the same January partition, which keeps it (no retention for that tenant).
    await newTenant("ret-other");
    await appendOld("ret-other", 5, "2025-01-20T10:00:00Z");
    await api.checkpointer.runOnce(true);
    const before = (await call(api.url, "GET", "/v1/integrity/checkpoints/latest", { token: key })).body as { seq: number; root: string };
    await api.searchIndexer.runUntilCurrent();
    const documents = async (tenant: string) =>
      (await db.pool.query<{ n: number; first: number | null }>("SELECT count(*)::int AS n, min(seq) AS first FROM search_documents WHERE tenant = $1", [tenant])).rows[0]!;
    expect(await documents("ret-a")).toEqual({ n: before.seq, first: 1 });

    // 400 days back from now (December 2026) is in November 2025: January to April 2025 have expired.
    const set = await admin("PUT", "ret-a/retention", { retentionDays: 400 });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ retentionDays: 400, legalHold: false, boundary: null });
    const pruned = await admin("POST", "ret-a/prune");
    expect(pruned.status, JSON.stringify(pruned.body)).toBe(200);
    // Events 1..60 were received in expired months; the boundary rounds down to the 16-leaf Merkle edge, 48.
    expect(pruned.body).toMatchObject({ tenant: "ret-a", prunedThrough: 48, removed: 48, checkpoint: { seq: 48 } });

    const left = await rows("ret-a");
    expect(left[0]!.seq).toBe(49);
    expect(left).toHaveLength(before.seq - 48 + 2); // + audit.retention.update and audit.retention.prune
    expect((await rows("ret-other")).length).toBe(5);
    // The search documents of pruned events went with them; the other tenant's stay.
    expect(await documents("ret-a")).toEqual({ n: before.seq - 48, first: 49 });
    expect((await documents("ret-other")).n).toBe(5);
    const record = left.find((r) => r.action === "audit.retention.prune")!;
    const sealing = (pruned.body as { checkpoint: { hash: string; root: string } }).checkpoint;
    expect(JSON.parse(record.details!)).toMatchObject({ prunedThrough: 48, previousBoundary: 0, events: 48, boundaryHash: sealing.hash, boundaryRoot: sealing.root });
    expect(left.some((r) => r.action === "audit.retention.update" && JSON.parse(r.details!).retentionDays === 400)).toBe(true);

    const verified = await verifyEndpoint(key);
    expect(verified).toMatchObject({ ok: true, prunedThrough: 48, checked: left.length });

    // A second prune finds nothing more to do.
    expect((await admin("POST", "ret-a/prune")).body).toMatchObject({ skipped: "nothing_expired", prunedThrough: 48, removed: 0 });

    // Proofs for kept events and consistency from the boundary still work; below the boundary they are gone.
    const ev = (await db.pool.query<{ id: string }>("SELECT id FROM events WHERE tenant = 'ret-a' AND seq = 50")).rows[0]!.id;
    const proof = await call(api.url, "GET", `/v1/events/${ev}/proof?size=${before.seq}`, { token: key });
    expect(proof.status, JSON.stringify(proof.body)).toBe(200);
    const p = proof.body as { leafIndex: number; treeSize: number; leafHash: string; rootHash: string; proof: string[] };
    const b = (s: string) => Buffer.from(s, "base64");
    expect(Buffer.from(before.root, "hex").equals(b(p.rootHash))).toBe(true);
    expect(verifyInclusion(p.leafIndex, p.treeSize, b(p.leafHash), p.proof.map(b), b(p.rootHash))).toBe(true);
    const cons = await call(api.url, "GET", `/v1/integrity/consistency?from=48&to=${before.seq}`, { token: key });
    expect(cons.status, JSON.stringify(cons.body)).toBe(200);
    const c = cons.body as { fromRoot: string; toRoot: string; proof: string[] };
    expect(b(c.fromRoot).equals(Buffer.from(sealing.root, "hex"))).toBe(true);
    expect(verifyConsistency(48, before.seq, b(c.fromRoot), b(c.toRoot), c.proof.map(b))).toBe(true);
    const gone = await call(api.url, "GET", `/v1/integrity/consistency?from=37&to=${before.seq}`, { token: key });
    expect(gone.status).toBe(410);
    expect(gone.body).toMatchObject({ code: "pruned" });

    // The offline verifier anchors the export's first event to the sealing checkpoint.
    const exp = await fetch(`${api.url}/v1/events/export?format=jsonl`, { headers: { authorization: `Bearer ${key}` } });
    writeFileSync(path.join(dir, "a.jsonl"), await exp.text());
    writeFileSync(path.join(dir, "cps.json"), JSON.stringify((await call(api.url, "GET", "/v1/integrity/checkpoints", { token: key })).body));
    writeFileSync(path.join(dir, "key.json"), JSON.stringify((await call(api.url, "GET", "/v1/integrity/public-key")).body));
    const offline = spawnSync(process.execPath, [cli, "verify", path.join(dir, "a.jsonl"), "--checkpoint", path.join(dir, "cps.json"), "--public-key", path.join(dir, "key.json"), "--json"], { encoding: "utf8" });
    expect(offline.status, offline.stderr).toBe(0);
    const report = JSON.parse(offline.stdout) as { firstSeq: number; notes: string[] };
    expect(report.firstSeq).toBe(49);
    expect(report.notes.join("\n")).toMatch(/after the signed checkpoint at seq 48/);

    // A signed checkpoint at 48 that the export's first event does not link to is a mismatch.
    const signer = await loadSigningKey(await testSigningKeyFile(db), "trailkeeper.dev/audit", false);
    const { note } = signCheckpoint("trailkeeper.dev/audit", { tenant: "ret-a", seq: 48, hash: "ab".repeat(32), time: new Date().toISOString() }, signer);
    writeFileSync(path.join(dir, "other48.json"), JSON.stringify({ note }));
    const bad = spawnSync(process.execPath, [cli, "verify", path.join(dir, "a.jsonl"), "--checkpoint", path.join(dir, "other48.json"), "--public-key", path.join(dir, "key.json"), "--json"], { encoding: "utf8" });
    expect(bad.status, bad.stdout).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ failure: { seq: 49, reason: "checkpoint_mismatch" } });
  });

  it("keeps the append-only rule above the boundary, whoever deletes", async () => {
    await expect(asSuperuser("DELETE FROM events WHERE tenant = 'ret-a' AND seq = 49")).rejects.toThrow(/append-only/);
    await expect(asSuperuser("UPDATE events SET actor_id = 'x' WHERE tenant = 'ret-a' AND seq = 60")).rejects.toThrow(/append-only/);
    await expect(asSuperuser("DELETE FROM events WHERE tenant = 'ret-other'")).rejects.toThrow(/append-only/);
    await expect(asSuperuser("TRUNCATE events_y2025m01")).rejects.toThrow(/append-only/);
    await expect(asSuperuser("TRUNCATE events")).rejects.toThrow(/append-only/);
    await expect(asSuperuser("SELECT trailkeeper_prune_events('ret-other', 3, now())")).rejects.toThrow(/no sealed retention boundary/);
    await expect(asSuperuser("DELETE FROM retention_boundaries")).rejects.toThrow(/append-only/);
    expect((await rows("ret-other")).length).toBe(5);
  });

  it("drops partitions left empty before the cutoff", async () => {
    await newTenant("ret-drop");
    await db.pool.query("SELECT trailkeeper_ensure_event_partitions('2024-03-01', '2024-04-01')");
    await appendOld("ret-drop", 32, "2024-03-05T00:00:00Z");
    await appendOld("ret-drop", 3, "2025-03-05T00:00:00Z");
    const key = await tenantWithKey(api.url, "ret-drop", ["events:read", "integrity:read"]);
    expect((await admin("PUT", "ret-drop/retention", { retentionDays: 300 })).status).toBe(200);
    const r = await admin("POST", "ret-drop/prune");
    // 300 days before December 2026 is February 2026: March 2024 has expired, and the default partition's rows
    // (received in March 2025) stop the boundary: 32.
    expect(r.body).toMatchObject({ prunedThrough: 32, removed: 32 });
    const parts = (await db.pool.query<{ name: string }>("SELECT name FROM event_partitions")).rows.map((x) => x.name);
    expect(parts).not.toContain("events_y2024m03");
    // The first test's prune dropped the empty March 2025 partition, so these three landed in the default one.
    expect((await db.pool.query("SELECT seq FROM events_default WHERE tenant = 'ret-drop'")).rowCount).toBe(3);
    expect((await db.pool.query("SELECT 1 FROM pg_class WHERE relname = 'events_y2024m03'")).rowCount).toBe(0);
    expect(await verifyEndpoint(key)).toMatchObject({ ok: true, prunedThrough: 32 });
  });

  it("prunes nothing under legal hold, records placing and releasing it, and prunes after release", async () => {
    await oldTrail("ret-hold");
    expect((await admin("PUT", "ret-hold/retention", { retentionDays: 400 })).status).toBe(200);
    const held = await admin("PUT", "ret-hold/legal-hold", { hold: true, reason: "case 2026-17" });
    expect(held.body).toMatchObject({ legalHold: true, legalHoldReason: "case 2026-17" });
    const refused = await admin("POST", "ret-hold/prune");
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: "legal_hold" });
    expect((await rows("ret-hold"))[0]!.seq).toBe(1);
    // The job skips held tenants too.
    await api.retention.runOnce();
    expect((await rows("ret-hold"))[0]!.seq).toBe(1);

    expect((await admin("PUT", "ret-hold/legal-hold", { hold: false })).body).toMatchObject({ legalHold: false, legalHoldReason: null });
    const actions = (await rows("ret-hold")).map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(["audit.retention.update", "audit.legal_hold.place", "audit.legal_hold.release"]));
    await api.retention.runOnce();
    expect((await rows("ret-hold"))[0]!.seq).toBe(49);
    expect((await admin("GET", "ret-hold/retention")).body).toMatchObject({ retentionDays: 400, legalHold: false, boundary: { seq: 48 } });
  });

  it("under legal hold, even rows below a sealed boundary cannot be deleted", async () => {
    await oldTrail("ret-late-hold");
    expect((await admin("PUT", "ret-late-hold/retention", { retentionDays: 400 })).status).toBe(200);
    const signer = await loadSigningKey(await testSigningKeyFile(db), "trailkeeper.dev/audit", false);
    // The boundary is sealed, then a hold arrives before the rows are deleted.
    expect(await sealBoundary(db.pool, signer, "trailkeeper.dev/audit", "ret-late-hold")).toHaveProperty("checkpoint");
    expect((await admin("PUT", "ret-late-hold/legal-hold", { hold: true, reason: "subpoena" })).status).toBe(200);
    await expect(asSuperuser("DELETE FROM events WHERE tenant = 'ret-late-hold' AND seq <= 48")).rejects.toThrow(/legal hold/);
    expect(await deleteThroughBoundary(db.pool, "ret-late-hold")).toEqual({ prunedThrough: 48, removed: 0 });
    expect((await rows("ret-late-hold"))[0]!.seq).toBe(1);
  });

  it("finishes a prune interrupted after the boundary was sealed", async () => {
    const key = await oldTrail("ret-resume");
    expect((await admin("PUT", "ret-resume/retention", { retentionDays: 400 })).status).toBe(200);
    const signer = await loadSigningKey(await testSigningKeyFile(db), "trailkeeper.dev/audit", false);
    await sealBoundary(db.pool, signer, "trailkeeper.dev/audit", "ret-resume");
    // As if the process died here: the boundary is recorded, the rows are still there; verification starts at 49.
    expect((await rows("ret-resume"))[0]!.seq).toBe(1);
    expect(await verifyEndpoint(key)).toMatchObject({ ok: true, prunedThrough: 48 });
    await api.retention.runOnce();
    expect((await rows("ret-resume"))[0]!.seq).toBe(49);
    expect(await verifyEndpoint(key)).toMatchObject({ ok: true, prunedThrough: 48 });
  });

  it("reports a boundary that no prune event records (rows deleted by hand)", async () => {
    const key = await oldTrail("ret-forged");
    await api.checkpointer.runOnce(true);
    const cp = (await call(api.url, "GET", "/v1/integrity/checkpoints/latest", { token: key })).body as { seq: number; hash: string };
    // A superuser writes a boundary row at a real checkpoint, which the delete guard then obeys.
    await asSuperuser("INSERT INTO retention_boundaries (tenant, seq, hash, event_id) VALUES ('ret-forged', $1, $2, $3)", [cp.seq, cp.hash, uuidv7()]);
    await asSuperuser("DELETE FROM events WHERE tenant = 'ret-forged' AND seq <= $1", [cp.seq]);
    const v = await verifyEndpoint(key);
    expect(v.ok).toBe(false);
    expect(v.failure).toMatchObject({ seq: cp.seq, reason: "retention_boundary_invalid" });
    expect(v.failure!.message).toMatch(/not recorded in the chain/);
  });

  it("is driven from the CLI too", async () => {
    await oldTrail("ret-cli");
    // Asynchronously: the API server runs in this process, so a synchronous child would wait for it forever.
    const run = (...args: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, [cli, "admin", ...args, "--url", api.url, "--token", testAdminToken], { encoding: "utf8" }, (err, stdout, stderr) => {
          resolve({ status: err ? (typeof err.code === "number" ? err.code : null) : 0, stdout, stderr });
        });
      });
    const set = await run("retention", "set", "ret-cli", "--days", "400");
    expect(set.status, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ retentionDays: 400 });
    expect(JSON.parse((await run("legal-hold", "place", "ret-cli", "--reason", "audit")).stdout)).toMatchObject({ legalHold: true, legalHoldReason: "audit" });
    const held = await run("retention", "prune", "ret-cli");
    expect(held.status).toBe(1);
    expect(held.stderr).toMatch(/409.*legal_hold/);
    expect((await run("legal-hold", "release", "ret-cli")).status).toBe(0);
    expect(JSON.parse((await run("retention", "prune", "ret-cli")).stdout)).toMatchObject({ prunedThrough: 48, removed: 48 });
    expect(JSON.parse((await run("retention", "get", "ret-cli")).stdout)).toMatchObject({ boundary: { seq: 48 } });
    expect((await run("retention", "set", "ret-cli", "--days", "0")).status).toBe(2);
    expect((await run("retention", "set", "ret-cli")).status).toBe(2);
    expect(JSON.parse((await run("retention", "set", "ret-cli", "--forever")).stdout)).toMatchObject({ retentionDays: null });
  });

  it("validates settings and names unknown tenants", async () => {
    expect((await admin("PUT", "ret-a/retention", { retentionDays: 0 })).status).toBe(400);
    expect((await admin("PUT", "ret-a/retention", { retentionDays: "30" })).status).toBe(400);
    expect((await admin("PUT", "ret-a/retention", { retentionDays: 30, extra: 1 })).status).toBe(400);
    expect((await admin("PUT", "ret-a/legal-hold", { hold: "yes" })).status).toBe(400);
    expect((await admin("GET", "nobody/retention")).status).toBe(404);
    expect((await admin("POST", "nobody/prune")).status).toBe(404);
    expect((await call(api.url, "GET", "/v1/admin/tenants/ret-a/retention")).status).toBe(401);
    // Removing the period stops pruning; the boundary stays.
    expect((await admin("PUT", "ret-a/retention", { retentionDays: null })).body).toMatchObject({ retentionDays: null, boundary: { seq: 48 } });
    expect((await admin("POST", "ret-a/prune")).body).toMatchObject({ skipped: "no_retention", prunedThrough: 48 });
  });
});
