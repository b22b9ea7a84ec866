import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApiServer } from "../../../api-server/src/server.ts";
import { canonicalJson } from "../../../core/src/events/canonical.ts";
import { eventHash } from "../../../core/src/events/chain.ts";
import { eventSelectList, rowToEvent } from "../../../core/src/db/event-rows.ts";
import { backfillTreeStep, treeRootsAt } from "../../../core/src/db/merkle-tree.ts";
import { signDueCheckpoints } from "../../../core/src/db/checkpoints.ts";
import { signCheckpoint } from "../../../core/src/integrity/checkpoint-note.ts";
import { loadSigningKey } from "../../../core/src/integrity/signing-key.ts";
import { checkpointObjectKey } from "../../../core/src/integrity/witness.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { call, sampleEvent, startTestApi, tenantWithKey, testSigningKeyFile } from "../../support/api.ts";

let db: TestDatabase;
let api: RunningApiServer;
const dir = mkdtempSync(path.join(tmpdir(), "tk-witness-"));
const cli = path.resolve(import.meta.dirname, "../../../api-server/src/cli.ts");
const logName = "trailkeeper.dev/audit";
const scopes = ["events:write", "events:read", "events:export", "integrity:read"];

// Checkpoints are forced explicitly, so periodic ones cannot interfere.
const env = { TRAILKEEPER_CHECKPOINT_EVERY_EVENTS: "1000000", TRAILKEEPER_CHECKPOINT_EVERY_SECONDS: "3600" };

beforeAll(async () => {
  db = await freshDatabase();
  api = await startTestApi(db, env);
  writeFileSync(path.join(dir, "key.json"), JSON.stringify((await call(api.url, "GET", "/v1/integrity/public-key")).body));
}, 60_000);
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

interface Cp { tenant: string; seq: number; hash: string; root?: string; time: string; note: string }

const file = (name: string, content: string) => {
  const f = path.join(dir, name);
  mkdirSync(path.dirname(f), { recursive: true });
  writeFileSync(f, content);
  return f;
};

/** Copies a checkpoint into a witness folder under the name the bucket publication uses. */
const witness = (folder: string, c: Cp) => file(path.join(folder, checkpointObjectKey("", c)), c.note);

const post = (key: string, n: number, overrides: Record<string, unknown> = {}) =>
  call(api.url, "POST", "/v1/events", { token: key, body: { events: Array.from({ length: n }, () => sampleEvent(overrides)) } });

async function checkpoint(key: string): Promise<Cp> {
  await api.checkpointer.runOnce(true);
  return (await call(api.url, "GET", "/v1/integrity/checkpoints/latest", { token: key })).body as Cp;
}

async function exportOf(key: string, name: string, query = ""): Promise<string> {
  const res = await fetch(`${api.url}/v1/events/export?format=jsonl${query}`, { headers: { authorization: `Bearer ${key}` } });
  return file(name, await res.text());
}

async function bundleFor(key: string, exportFile: string, name: string): Promise<string> {
  const seqs = readFileSync(exportFile, "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { seq: number }).seq);
  const res = await call(api.url, "POST", "/v1/integrity/proofs", { token: key, body: { seqs } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return file(name, JSON.stringify(res.body));
}

/** Runs `trailkeeper verify` asynchronously: with --server it calls back into this process's API server. */
function verify(args: string[]): Promise<{ code: number | null; report: any; stderr: string }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, "verify", ...args, "--public-key", path.join(dir, "key.json"), "--json"]);
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("close", (code) => resolve({ code, report: out ? JSON.parse(out) : undefined, stderr: err }));
  });
}

/**
 * Rewrites history as a database superuser holding the signing key would: event 10 gets other details, every
 * later hash is recomputed, the Merkle tree is rebuilt from the rewritten chain, and the stored checkpoints are
 * replaced by ones signed with the real key over the rewritten tree.
 */
async function rewriteHistory(tenant: string): Promise<void> {
  const rows = (await db.pool.query(`SELECT ${eventSelectList} FROM events WHERE tenant = $1 ORDER BY seq`, [tenant])).rows.map(rowToEvent);
  const su = await db.superuser();
  try {
    await su.query("SET session_replication_role = replica");
    let prev = rows[0]!.prevHash;
    for (const e of rows) {
      const forged = { ...e, prevHash: prev, details: e.seq === 10 ? { n: "rewritten" } : e.details };
      forged.hash = eventHash(forged);
      await su.query("UPDATE events SET details = $3, prev_hash = $4, hash = $5 WHERE tenant = $1 AND seq = $2", [tenant, e.seq, forged.details === undefined ? null : canonicalJson(forged.details), forged.prevHash, forged.hash]);
      prev = forged.hash;
    }
    await su.query("DELETE FROM merkle_nodes WHERE tenant = $1", [tenant]);
    await su.query("DELETE FROM checkpoints WHERE tenant = $1", [tenant]);
    await su.query("UPDATE chain_heads SET hash = $2, tree_size = 0, tree_frontier = '\\x'::bytea WHERE tenant = $1", [tenant, prev]);
  } finally {
    await su.end();
  }
  while ((await backfillTreeStep(db.pool, tenant)) > 0) { /* rebuild the whole tree */ }
  const signer = await loadSigningKey(await testSigningKeyFile(db), logName, false);
  await signDueCheckpoints(db.pool, signer, logName, { everyEvents: 1, everySeconds: 1 }, true);
}

describe("trailkeeper verify against witnessed checkpoints", () => {
  const tenant = "witness-acme";
  let key: string;
  const honest: Cp[] = [];

  beforeAll(async () => {
    key = await tenantWithKey(api.url, tenant, scopes);
    await post(key, 30);
    honest.push(await checkpoint(key));
    await post(key, 25, { action: "auth.login" });
    honest.push(await checkpoint(key));
    await post(key, 20);
    honest.push(await checkpoint(key));
    for (const c of honest) witness("witness", c);
    // Another tenant's notes in the same copy are skipped, not mistaken for this tenant's.
    const other = await tenantWithKey(api.url, "witness-other", scopes);
    await post(other, 3);
    witness("witness", await checkpoint(other));
  }, 60_000);

  it("proves a complete export against the witnessed roots, consecutive ones consistent through the export itself", async () => {
    const exp = await exportOf(key, "full.jsonl");
    const r = await verify([exp, "--witnessed", path.join(dir, "witness")]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.report).toMatchObject({ exitCode: 0, complete: true, checkpointsMatched: 3 });
    expect(r.report.witness).toMatchObject({ notes: 3, otherTenants: 1, checkpoints: 3, forks: [], inconsistent: [], unchecked: [] });
    expect(r.report.witness.consistent.map((c: { from: number; to: number; by: string }) => [c.from, c.to, c.by])).toEqual([[honest[0]!.seq, honest[1]!.seq, "export"], [honest[1]!.seq, honest[2]!.seq, "export"]]);
  });

  it("ties a filtered export's proof bundle to the witnessed checkpoints with consistency proofs from the server", async () => {
    await post(key, 5);
    const latest = await checkpoint(key); // not witnessed: the bundle's tree is linked to the last witnessed one
    const exp = await exportOf(key, "logins.jsonl", "&action=auth.login");
    const bundle = await bundleFor(key, exp, "logins-bundle.json");
    const args = [exp, "--filtered", "--proofs", bundle, "--witnessed", path.join(dir, "witness")];

    const withoutServer = await verify(args);
    expect(withoutServer.code).toBe(0);
    expect(withoutServer.report.witness.unchecked.map((u: { from: number; to: number }) => [u.from, u.to])).toEqual([[honest[0]!.seq, honest[1]!.seq], [honest[1]!.seq, honest[2]!.seq], [honest[2]!.seq, latest.seq]]);
    expect(withoutServer.report.notes.join("\n")).toMatch(/was not checked: no proof/);

    const r = await verify([...args, "--server", api.url, "--token", key]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.report).toMatchObject({ exitCode: 0, proven: 25, witness: { inconsistent: [], unchecked: [] } });
    expect(r.report.witness.consistent.map((c: { to: number; by: string }) => [c.to, c.by])).toEqual([[honest[1]!.seq, "proof"], [honest[2]!.seq, "proof"], [latest.seq, "proof"]]);
  });

  it("takes saved consistency proofs, and rejects a forged one", async () => {
    const exp = path.join(dir, "logins.jsonl");
    const [a, b] = [honest[1]!.seq, honest[2]!.seq];
    const proof = (await call(api.url, "GET", `/v1/integrity/consistency?from=${a}&to=${b}`, { token: key })).body as { proof: string[] };
    const good = file("cons-good.json", JSON.stringify(proof));
    const ok = await verify([exp, "--filtered", "--witnessed", path.join(dir, "witness", "checkpoints", tenant), "--consistency", good]);
    expect(ok.code).toBe(0);
    expect(ok.report.witness.consistent).toContainEqual(expect.objectContaining({ from: a, to: b, by: "proof" }));

    const h = Buffer.from(proof.proof[0]!, "base64");
    h[3]! ^= 0x10;
    const bad = file("cons-bad.json", JSON.stringify({ ...proof, proof: [h.toString("base64"), ...proof.proof.slice(1)] }));
    const r = await verify([exp, "--filtered", "--witnessed", path.join(dir, "witness"), "--consistency", bad]);
    expect(r.code).toBe(1);
    expect(r.report.failure).toMatchObject({ seq: a, reason: "consistency_proof_invalid" });
  });

  it("rejects unusable witness input: a note with a bad signature, no note of the tenant, --server without --witnessed", async () => {
    const exp = path.join(dir, "full.jsonl");
    const edited = file("edited/bad.note", honest[0]!.note.replace(`\n${honest[0]!.seq}\n`, `\n${honest[0]!.seq + 1}\n`));
    const bad = await verify([exp, "--witnessed", edited]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/edited\/bad\.note.*does not verify/);
    const foreign = await verify([exp, "--witnessed", path.join(dir, "witness", "checkpoints", "witness-other")]);
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toMatch(/none of the 1 witnessed checkpoints is for tenant witness-acme/);
    const stray = await verify([exp, "--server", api.url]);
    expect(stray.code).toBe(2);
  });

  describe("after history was rewritten and re-signed with the real key", () => {
    let forged: Cp;

    beforeAll(async () => {
      await rewriteHistory(tenant);
      await post(key, 4);
      forged = await checkpoint(key);
    }, 60_000);

    it("the server's own checks pass: the forgery is self-consistent", async () => {
      const v = await call(api.url, "GET", "/v1/integrity/verify", { token: key });
      expect(v.body.ok).toBe(true);
      const exp = await exportOf(key, "forged-full.jsonl");
      const cps = file("forged-cps.json", JSON.stringify((await call(api.url, "GET", "/v1/integrity/checkpoints", { token: key })).body));
      expect((await verify([exp, "--checkpoint", cps])).code).toBe(0);
    });

    it("a filtered export proven in the re-signed tree fails the consistency check against the witnessed checkpoints", async () => {
      const exp = await exportOf(key, "forged-logins.jsonl", "&action=auth.login");
      const bundle = await bundleFor(key, exp, "forged-bundle.json");
      const alone = await verify([exp, "--filtered", "--proofs", bundle]);
      expect(alone.code).toBe(0); // without a witness, the re-signed tree proves the events

      const r = await verify([exp, "--filtered", "--proofs", bundle, "--witnessed", path.join(dir, "witness"), "--server", api.url, "--token", key]);
      expect(r.code).toBe(1);
      expect(r.report.failure).toMatchObject({ reason: "consistency_proof_invalid" });
      expect(r.report.witness.inconsistent.length).toBeGreaterThan(0);
      expect(r.report.witness.inconsistent.at(-1)).toMatchObject({ to: forged.seq, notes: [expect.stringContaining(".note"), "proof bundle 1"] });
    });

    it("a complete export no longer gives the witnessed roots", async () => {
      const r = await verify([path.join(dir, "forged-full.jsonl"), "--witnessed", path.join(dir, "witness")]);
      expect(r.code).toBe(1);
      expect(r.report.failure).toMatchObject({ seq: honest[0]!.seq, reason: "checkpoint_mismatch" });
    });

    it("a re-signed checkpoint of a witnessed size is reported as a fork, naming both notes", async () => {
      const size = honest[1]!.seq;
      const [root] = await treeRootsAt(db.pool, tenant, [size]);
      const { hash } = (await db.pool.query<{ hash: string }>("SELECT hash FROM events WHERE tenant = $1 AND seq = $2", [tenant, size])).rows[0]!;
      const signer = await loadSigningKey(await testSigningKeyFile(db), logName, false);
      const c = { tenant, seq: size, hash, root: root!.toString("hex"), time: new Date().toISOString() };
      const resigned = witness("witness", { ...c, note: signCheckpoint(logName, c, signer).note });
      const r = await verify([path.join(dir, "logins.jsonl"), "--filtered", "--witnessed", path.join(dir, "witness")]);
      expect(r.code).toBe(1);
      expect(r.report.failure).toMatchObject({ seq: size, reason: "fork" });
      const original = path.join(dir, "witness", checkpointObjectKey("", honest[1]!));
      expect(r.report.witness.forks).toEqual([{ seq: size, notes: expect.arrayContaining([original, resigned]) }]);
      expect(r.report.failure.message).toContain(original);
    });
  });

  it("a witnessed size the server's tree no longer reaches (a truncated log) fails the consistency check", async () => {
    const t = "witness-trunc";
    const k = await tenantWithKey(api.url, t, scopes);
    await post(k, 10);
    const early = await checkpoint(k);
    await post(k, 10);
    const late = await checkpoint(k);
    // The witnessed note claims a tree larger than the server holds; the server must refuse to prove it.
    const signer = await loadSigningKey(await testSigningKeyFile(db), logName, false);
    const beyond = { tenant: t, seq: late.seq + 50, hash: late.hash, root: late.root!, time: late.time };
    witness("trunc", early);
    witness("trunc", { ...beyond, note: signCheckpoint(logName, beyond, signer).note });
    const exp = await exportOf(k, "trunc.jsonl", "&action=resource.update");
    const r = await verify([exp, "--filtered", "--witnessed", path.join(dir, "trunc"), "--server", api.url, "--token", k]);
    expect(r.code).toBe(1);
    expect(r.report.failure).toMatchObject({ seq: early.seq, reason: "consistency_proof_invalid" });
    expect(r.report.failure.message).toMatch(/400 invalid_tree_size/);
  });
});
