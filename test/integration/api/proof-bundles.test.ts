import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApiServer } from "../../../api-server/src/server.ts";
import { eventHash } from "../../../core/src/events/chain.ts";
import type { StoredEvent } from "../../../core/src/events/model.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { call, sampleEvent, startTestApi, tenantWithKey } from "../../support/api.ts";

/**
 * Proof bundles in both formats (docs/integrity.md §6) against a full, unfiltered export, as `trailkeeper verify
 * --proofs` checks them: format 1 carries an audit path per event, format 2 one multi-proof per bundle.
 */
let db: TestDatabase;
let api: RunningApiServer;
const dir = mkdtempSync(path.join(tmpdir(), "tk-bundles-"));
const cli = path.resolve(import.meta.dirname, "../../../api-server/src/cli.ts");
const env = { TRAILKEEPER_CHECKPOINT_EVERY_EVENTS: "1000000", TRAILKEEPER_CHECKPOINT_EVERY_SECONDS: "3600" };
const scopes = ["events:write", "events:read", "events:export", "integrity:read"];

interface PathBundle { format: string; treeSize: number; proofs: { seq: number; hash: string; proof: string[] }[] }
interface MultiBundle { format: string; treeSize: number; seqs: number[]; hashes: string[]; nodes: string[] }

let key: string;
let exportText: string;
let seqs: number[];
let treeSize: number;

const file = (name: string, content: string) => {
  const f = path.join(dir, name);
  writeFileSync(f, content);
  return f;
};
const verify = (exp: string, bundles: unknown[], extra: string[] = []) => {
  const args = [cli, "verify", file("export.jsonl", exp), "--public-key", path.join(dir, "key.json"), "--json", ...extra];
  bundles.forEach((b, i) => args.push("--proofs", file(`bundle-${i}.json`, JSON.stringify(b))));
  const r = spawnSync(process.execPath, args, { encoding: "utf8" });
  return { code: r.status, report: r.stdout ? JSON.parse(r.stdout) : undefined, stderr: r.stderr };
};
const bundleOf = async (body: Record<string, unknown>) => {
  const res = await call(api.url, "POST", "/v1/integrity/proofs", { token: key, body });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
};

beforeAll(async () => {
  db = await freshDatabase();
  api = await startTestApi(db, env);
  key = await tenantWithKey(api.url, "bundles", scopes);
  await call(api.url, "POST", "/v1/events", { token: key, body: { events: Array.from({ length: 40 }, () => sampleEvent()) } });
  await api.checkpointer.runOnce(true);
  file("key.json", JSON.stringify((await call(api.url, "GET", "/v1/integrity/public-key")).body));
  const exp = await fetch(`${api.url}/v1/events/export?format=jsonl`, { headers: { authorization: `Bearer ${key}` } });
  // The export's own audit record comes after the checkpoint: the export covers the signed tree and one more.
  exportText = await exp.text();
  seqs = exportText.trim().split("\n").map((l) => (JSON.parse(l) as { seq: number }).seq);
  treeSize = seqs.length - 1;
}, 60_000);
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

describe("proof bundles for a full export", () => {
  it("format 2 carries one multi-proof: an export from seq 1 to the tree's size needs no node at all", async () => {
    const all = (await bundleOf({ seqs: seqs.slice(0, treeSize), format: "trailkeeper-proofs/2" })) as MultiBundle;
    expect(all).toMatchObject({ format: "trailkeeper-proofs/2", treeSize, seqs: seqs.slice(0, treeSize), nodes: [] });
    const middle = (await bundleOf({ seqs: [5, 6, 7, 8, 9, 20], format: "trailkeeper-proofs/2" })) as MultiBundle;
    expect(middle.nodes.length).toBeGreaterThan(0);
    expect(middle.nodes.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(treeSize)) + 2);
  });

  it.each(["trailkeeper-proofs/1", "trailkeeper-proofs/2"])("proves every event up to the signed size with %s bundles, and names the one it cannot", async (format) => {
    const bundles = [await bundleOf({ seqs: seqs.slice(0, 20), format }), await bundleOf({ seqs: seqs.slice(20, treeSize), format })];
    const exact = verify(exportText.split("\n").slice(0, treeSize).join("\n"), bundles);
    expect(exact.stderr).toBe("");
    expect(exact.report).toMatchObject({ exitCode: 0, events: treeSize, proven: treeSize, complete: true });
    // The export's own record (seq treeSize + 1) is beyond every signed tree: no proof for it.
    const r = verify(exportText, bundles);
    expect(r.report).toMatchObject({ exitCode: 1, proven: treeSize, failure: { seq: treeSize + 1, reason: "inclusion_proof_invalid" } });
  });

  it("rejects a format 2 bundle whose node, hash or seq was changed, and a seq beyond its signed tree", async () => {
    const exp = exportText.split("\n").slice(0, 30).join("\n");
    const b = (await bundleOf({ seqs: seqs.slice(0, 30), format: "trailkeeper-proofs/2" })) as MultiBundle;
    expect(verify(exp, [b], ["--filtered"]).report).toMatchObject({ exitCode: 0, proven: 30 });
    expect(b.nodes.length).toBeGreaterThan(0);

    const node = structuredClone(b);
    const h = Buffer.from(node.nodes[0]!, "base64");
    h[3]! ^= 1;
    node.nodes[0] = h.toString("base64");
    expect(verify(exp, [node], ["--filtered"]).report.failure).toMatchObject({ seq: 1, reason: "inclusion_proof_invalid" });

    const respelled = structuredClone(b);
    respelled.nodes[0] = respelled.nodes[0]!.slice(0, -1); // the same bytes to Node's decoder, not the one spelling
    expect(verify(exp, [respelled], ["--filtered"]).report.failure).toMatchObject({ seq: 1, reason: "inclusion_proof_invalid" });

    const dropped = { ...b, nodes: b.nodes.slice(1) };
    expect(verify(exp, [dropped], ["--filtered"]).report.failure).toMatchObject({ reason: "inclusion_proof_invalid" });

    // A changed leaf changes the root: no event of the bundle is proven, the first names the multi-proof.
    const other = structuredClone(b);
    other.hashes[10] = other.hashes[11]!;
    const r = verify(exp, [other], ["--filtered"]);
    expect(r.report).toMatchObject({ proven: 0, failure: { seq: 1, reason: "inclusion_proof_invalid" } });
    expect(r.report.failure.message).toMatch(/multi-proof holding seq 1 does not lead to the root/);

    // Claimed for a seq beyond the signed tree (the export's own record): named as such, not unusable input.
    const last = JSON.parse(exportText.trim().split("\n").at(-1)!) as StoredEvent;
    const beyond = { ...b, seqs: [...b.seqs, last.seq], hashes: [...b.hashes, last.hash] };
    const withLast = verify(`${exp}\n${exportText.trim().split("\n").at(-1)}`, [beyond], ["--filtered"]);
    expect(withLast.report.failure).toMatchObject({ seq: 1, reason: "inclusion_proof_invalid" });
    expect(withLast.report.failure.message).toMatch(/beyond the signed tree/);

    const unordered = { ...b, seqs: [...b.seqs].reverse() };
    const bad = verify(exp, [unordered], ["--filtered"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/ascending/);
  });

  it("rejects a format 1 proof for a seq beyond the signed tree", async () => {
    const b = (await bundleOf({ seqs: [1, 2, 3] })) as PathBundle;
    const last = JSON.parse(exportText.trim().split("\n").at(-1)!) as StoredEvent;
    const forged = { ...b, proofs: [...b.proofs, { seq: last.seq, hash: last.hash, proof: b.proofs[0]!.proof }] };
    const r = verify(exportText.trim().split("\n").at(-1)!, [forged], ["--filtered"]);
    expect(r.report.failure).toMatchObject({ seq: last.seq, reason: "inclusion_proof_invalid" });
    expect(r.report.failure.message).toMatch(/beyond the signed tree of/);
  });

  it("catches a fabricated event with its own consistent hash in a full export proven by format 2", async () => {
    const lines = exportText.trim().split("\n").slice(0, treeSize);
    const forged = JSON.parse(lines[9]!) as StoredEvent;
    forged.details = { n: "forged" };
    forged.hash = eventHash(forged);
    // The forged event ends the export, so no link after it gives it away: only its proof can.
    const exp = [...lines.slice(0, 9), JSON.stringify(forged)].join("\n");
    const b = await bundleOf({ seqs: seqs.slice(0, treeSize), format: "trailkeeper-proofs/2" });
    expect(verify(exp, [], ["--filtered"]).code).toBe(0);
    const r = verify(exp, [b], ["--filtered"]);
    expect(r.report).toMatchObject({ proven: 9, failure: { seq: 10, reason: "inclusion_proof_invalid" } });
    expect(r.report.failure.message).toMatch(/the proof is for hash/);
  });

  it("answers a bundle request in an unknown format with a problem", async () => {
    const res = await call(api.url, "POST", "/v1/integrity/proofs", { token: key, body: { seqs: [1], format: "trailkeeper-proofs/3" } });
    expect([res.status, res.body.code]).toEqual([400, "invalid_request"]);
  });
});
