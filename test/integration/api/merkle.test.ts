import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApiServer } from "../../../api-server/src/server.ts";
import { eventColumns, eventToRow } from "../../../core/src/db/event-rows.ts";
import { appendAtHead, appendToChainWithHead, createTenant, readAppendHead } from "../../../core/src/db/event-store.ts";
import { backfillTreeStep, treeRootsAt } from "../../../core/src/db/merkle-tree.ts";
import { inTransaction } from "../../../core/src/db/pool.ts";
import { treeRoot } from "../../../core/src/integrity/merkle.ts";
import { openCheckpoint, signCheckpoint } from "../../../core/src/integrity/checkpoint-note.ts";
import { loadSigningKey, parseVerifierKey } from "../../../core/src/integrity/signing-key.ts";
import { signDueCheckpoints } from "../../../core/src/db/checkpoints.ts";
import { eventHash, extendChain } from "../../../core/src/events/chain.ts";
import { eventInputSchema, toPendingEvent, type StoredEvent } from "../../../core/src/events/model.ts";
import { uuidv7 } from "../../../core/src/ids.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { call, sampleEvent, startTestApi, tenantWithKey, testSigningKeyFile } from "../../support/api.ts";

let db: TestDatabase;
let api: RunningApiServer;
const dir = mkdtempSync(path.join(tmpdir(), "tk-merkle-"));
const tlogVerify = path.join(dir, "tlog-verify");
const cli = path.resolve(import.meta.dirname, "../../../api-server/src/cli.ts");

// Checkpoints are forced explicitly, so periodic ones cannot interfere.
const env = { TRAILKEEPER_CHECKPOINT_EVERY_EVENTS: "1000000", TRAILKEEPER_CHECKPOINT_EVERY_SECONDS: "3600" };

beforeAll(async () => {
  // Go's golang.org/x/mod/sumdb/tlog is the independent RFC 6962 implementation that checks every proof.
  const build = spawnSync("go", ["build", "-o", tlogVerify, "."], { cwd: path.resolve(import.meta.dirname, "../../tlog-verify"), encoding: "utf8" });
  if (build.status !== 0) throw new Error(`go build failed: ${build.stderr}`);
  db = await freshDatabase();
  api = await startTestApi(db, env);
}, 180_000);
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

interface InclusionProof { id: string; seq: number; hash: string; leafIndex: number; treeSize: number; rootHash: string; proof: string[]; checkpoint: { seq: number; root?: string; note: string } | null }
interface ConsistencyProof { from: number; to: number; fromRoot: string; toRoot: string; proof: string[] }
interface GoResult { kind: string; index: number; ok: boolean; error?: string }

/** Runs the Go verifier; `leaves` (chain hashes in seq order) let it also compute every root itself. */
function goVerify(input: { leaves?: string[]; inclusion?: InclusionProof[]; consistency?: ConsistencyProof[] }): { code: number | null; results: GoResult[] } {
  const r = spawnSync(tlogVerify, [], { input: JSON.stringify(input), encoding: "utf8" });
  if (r.status === 2) throw new Error(`tlog-verify: ${r.stderr}`);
  return { code: r.status, results: (JSON.parse(r.stdout) as GoResult[] | null) ?? [] };
}

const chainHashes = async (tenant: string): Promise<{ id: string; hash: string }[]> =>
  (await db.pool.query<{ id: string; hash: string }>("SELECT id, hash FROM events WHERE tenant = $1 ORDER BY seq", [tenant])).rows;

const proofOf = async (key: string, id: string, query = "") => {
  const res = await call(api.url, "GET", `/v1/events/${id}/proof${query}`, { token: key });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as InclusionProof;
};

const consistencyOf = async (key: string, from: number, to?: number) => {
  const res = await call(api.url, "GET", `/v1/integrity/consistency?from=${from}${to === undefined ? "" : `&to=${to}`}`, { token: key });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as ConsistencyProof;
};

const post = (key: string, events: Record<string, unknown>[]) => call(api.url, "POST", "/v1/events", { token: key, body: { events } });

const scopes = ["events:write", "events:read", "events:export", "integrity:read"];

describe("Merkle proofs kept at ingest", () => {
  let key: string;
  let leaves: { id: string; hash: string }[];
  const tenant = "merkle-live";

  beforeAll(async () => {
    key = await tenantWithKey(api.url, tenant, scopes);
    // Batches, concurrent single events (grouped, optimistic append) and client-chosen ids (locking append).
    await post(key, Array.from({ length: 100 }, () => sampleEvent()));
    await Promise.all(Array.from({ length: 40 }, () => post(key, [sampleEvent()])));
    await post(key, Array.from({ length: 30 }, () => sampleEvent({ id: crypto.randomUUID() })));
    await api.checkpointer.runOnce(true);
    await post(key, Array.from({ length: 97 }, () => sampleEvent()));
    await api.checkpointer.runOnce(true);
    leaves = await chainHashes(tenant);
  }, 60_000);

  it("signs tlog checkpoints whose root is the RFC 6962 root tlog computes from the event hashes", async () => {
    const cps = (await call(api.url, "GET", "/v1/integrity/checkpoints", { token: key })).body.checkpoints as { seq: number; root: string; note: string }[];
    expect(cps.map((c) => c.seq)).toEqual([leaves.length, leaves.length - 97]);
    const verifier = parseVerifierKey((await call(api.url, "GET", "/v1/integrity/public-key")).body.vkey);
    const proofs: InclusionProof[] = [];
    for (const c of cps) {
      const opened = openCheckpoint(c.note, verifier);
      expect(opened.root).toBe(c.root);
      proofs.push({ ...(await proofOf(key, leaves[0]!.id, `?size=${c.seq}`)) });
      expect(Buffer.from(proofs.at(-1)!.rootHash, "base64").toString("hex")).toBe(c.root);
    }
    expect(goVerify({ leaves: leaves.map((l) => l.hash), inclusion: proofs })).toEqual({ code: 0, results: [{ kind: "inclusion", index: 0, ok: true }, { kind: "inclusion", index: 1, ok: true }] });
  });

  it("proves every event's inclusion in the latest checkpoint (the default size), checked by tlog", async () => {
    const proofs = await Promise.all(leaves.map((l) => proofOf(key, l.id)));
    expect(proofs.every((p) => p.treeSize === leaves.length && p.checkpoint?.seq === leaves.length)).toBe(true);
    expect(proofs[4]).toMatchObject({ seq: 5, leafIndex: 4, hash: leaves[4]!.hash });
    const r = goVerify({ leaves: leaves.map((l) => l.hash), inclusion: proofs });
    expect(r.results.filter((x) => !x.ok)).toEqual([]);
    expect(r.code).toBe(0);
  });

  it("proves inclusion in earlier trees of any size", async () => {
    const cases: [number, number][] = [[1, 1], [1, 2], [2, 2], [3, 7], [16, 16], [17, 33], [100, 170], [200, 255], [256, 256], [5, leaves.length - 1]];
    const proofs = await Promise.all(cases.map(([seq, size]) => proofOf(key, leaves[seq - 1]!.id, `?size=${size}`)));
    expect(proofs.map((p) => p.checkpoint)).toEqual(cases.map(([, size]) => (size === leaves.length - 97 ? expect.anything() : null)));
    const r = goVerify({ leaves: leaves.map((l) => l.hash), inclusion: proofs });
    expect(r.results.every((x) => x.ok)).toBe(true);
  });

  it("proves consistency between any two sizes, checked by tlog", async () => {
    const n = leaves.length;
    const pairs: [number, number][] = [[1, 1], [1, n], [7, 8], [8, 8], [16, 17], [31, 32], [32, 64], [100, 171], [171, n], [n - 1, n], [n, n]];
    const proofs = await Promise.all(pairs.map(([from, to]) => consistencyOf(key, from, to)));
    const latest = await consistencyOf(key, 50);
    expect(latest.to).toBe(n);
    const r = goVerify({ leaves: leaves.map((l) => l.hash), consistency: [...proofs, latest] });
    expect(r.results.filter((x) => !x.ok)).toEqual([]);
    expect(r.code).toBe(0);
  });

  it("has its forged proofs rejected by tlog: a changed hash, another leaf, a size beyond the proof, a forked root", async () => {
    const good = await proofOf(key, leaves[41]!.id, "?size=200");
    const flip = (b64: string) => { const b = Buffer.from(b64, "base64"); b[0]! ^= 1; return b.toString("base64"); };
    const cons = await consistencyOf(key, 100, 200);
    const r = goVerify({
      inclusion: [
        good,
        { ...good, proof: [good.proof[0]!, flip(good.proof[1]!), ...good.proof.slice(2)] },
        { ...good, hash: leaves[42]!.hash },
        { ...good, leafIndex: 42 },
        { ...good, treeSize: leaves.length, rootHash: (await proofOf(key, leaves[41]!.id)).rootHash },
      ],
      consistency: [cons, { ...cons, fromRoot: flip(cons.fromRoot) }, { ...cons, proof: cons.proof.slice(1) }],
    });
    expect(r.code).toBe(1);
    expect(r.results.map((x) => x.ok)).toEqual([true, false, false, false, false, true, false, false]);
  });

  it("answers bad requests with a problem and stores nothing", async () => {
    const rows = leaves.length;
    const id = leaves[9]!.id;
    const cases: [string, number, string][] = [
      [`/v1/events/${id}/proof?size=${rows + 1}`, 400, "invalid_tree_size"],
      [`/v1/events/${id}/proof?size=9`, 400, "invalid_tree_size"],
      [`/v1/events/${id}/proof?size=0`, 400, "invalid_filter"],
      [`/v1/events/${id}/proof?size=abc`, 400, "invalid_filter"],
      [`/v1/events/${id}/proof?sise=10`, 400, "invalid_filter"],
      [`/v1/events/${crypto.randomUUID()}/proof`, 404, "unknown_event"],
      ["/v1/events/not-a-uuid/proof", 404, "unknown_event"],
      ["/v1/integrity/consistency", 400, "invalid_filter"],
      ["/v1/integrity/consistency?from=20&to=10", 400, "invalid_tree_size"],
      [`/v1/integrity/consistency?from=1&to=${rows + 1}`, 400, "invalid_tree_size"],
    ];
    for (const [p, status, code] of cases) {
      const res = await call(api.url, "GET", p, { token: key });
      expect([res.status, res.body.code], p).toEqual([status, code]);
      expect(res.headers.get("content-type"), p).toMatch(/^application\/problem\+json/);
    }
    expect((await call(api.url, "GET", `/v1/events/${id}/proof`)).status).toBe(401);
    const other = await tenantWithKey(api.url, "merkle-other", scopes);
    // Another tenant's event is unknown there, and a tenant without a Merkle checkpoint has no default size.
    expect((await call(api.url, "GET", `/v1/events/${id}/proof?size=1`, { token: other })).body.code).toBe("unknown_event");
    expect((await call(api.url, "GET", "/v1/integrity/consistency?from=1", { token: other })).body.code).toBe("no_checkpoint");
    expect((await chainHashes(tenant)).length).toBe(rows);
  });
});

/** Appends events the way the server did before the Merkle tree: events and chain head only. */
async function appendWithoutTree(tenant: string, n: number): Promise<void> {
  const head = (await readAppendHead(db.pool, tenant))!;
  const pending = Array.from({ length: n }, () => toPendingEvent(eventInputSchema.parse(sampleEvent()), tenant, uuidv7(), new Date()));
  const { events, head: next } = extendChain(head, pending);
  const placeholders = eventColumns.map((_, i) => `$${i + 1}`).join(", ");
  for (const e of events) await db.pool.query(`INSERT INTO events (${eventColumns.join(", ")}) VALUES (${placeholders})`, eventToRow(e));
  await db.pool.query("UPDATE chain_heads SET seq = $2, hash = $3 WHERE tenant = $1", [tenant, next.seq, next.hash]);
}

describe("back-fill of a tenant whose events predate the tree", () => {
  const tenant = "merkle-old";
  let key: string;

  beforeAll(async () => {
    // The key's creation is an audited event, appended with the tree before the old-path events.
    key = await tenantWithKey(api.url, tenant, scopes);
  });

  it("signs chain-only checkpoints while the tree lags, back-fills resumably, then proves everything", async () => {
    // Simulates a tenant from before migration 0007: reset is impossible (nodes are append-only), so the tree
    // starts lagging as soon as events arrive without it.
    await appendWithoutTree(tenant, 45);
    let head = (await readAppendHead(db.pool, tenant))!;
    expect(head.seq).toBe(46);
    expect(head.tree.size).toBe(1);

    // While the tree lags, a checkpoint (signed here without the checkpointer's back-fill round) is in the format
    // from before the tree, and appends leave the tree alone.
    const signer = await loadSigningKey(await testSigningKeyFile(db), "trailkeeper.dev/audit", false);
    await signDueCheckpoints(db.pool, signer, "trailkeeper.dev/audit", { everyEvents: 1, everySeconds: 1 }, true);
    const legacy = (await call(api.url, "GET", "/v1/integrity/checkpoints/latest", { token: key })).body;
    expect(legacy).toMatchObject({ seq: 46, hash: head.hash });
    expect(legacy.root).toBeUndefined();
    expect(legacy.note.split("\n")[2]).toBe(Buffer.from(head.hash, "hex").toString("base64"));
    await post(key, Array.from({ length: 5 }, () => sampleEvent()));
    head = (await readAppendHead(db.pool, tenant))!;
    expect([head.seq, head.tree.size]).toEqual([51, 1]);

    // The job resumes from the committed tree size, chunk by chunk.
    const sizes: number[] = [];
    let remaining = Infinity;
    while (remaining > 0) {
      remaining = await backfillTreeStep(db.pool, tenant, 7);
      sizes.push((await readAppendHead(db.pool, tenant))!.tree.size);
    }
    expect(sizes[0]).toBe(head.tree.size + 7);
    expect(sizes.at(-1)).toBe(51);
    expect(await backfillTreeStep(db.pool, tenant)).toBe(0);

    // From now on appends extend the tree again, and checkpoints sign its root.
    await post(key, Array.from({ length: 9 }, () => sampleEvent()));
    await api.checkpointer.runOnce(true);
    const leaves = await chainHashes(tenant);
    expect((await readAppendHead(db.pool, tenant))!.tree.size).toBe(leaves.length);
    const proofs = await Promise.all(leaves.map((l) => proofOf(key, l.id)));
    const cons = await Promise.all([1, 10, 46, 51].map((from) => consistencyOf(key, from)));
    const r = goVerify({ leaves: leaves.map((l) => l.hash), inclusion: proofs, consistency: cons });
    expect(r.results.filter((x) => !x.ok)).toEqual([]);
    expect(r.code).toBe(0);
  });

  it("lets trailkeeper verify accept an export checked against old-format and Merkle checkpoints together", async () => {
    await appendWithoutTree(tenant, 3);
    await api.checkpointer.runOnce(true); // runs the back-fill first: this checkpoint signs a root
    const cps = (await call(api.url, "GET", "/v1/integrity/checkpoints?limit=500", { token: key })).body.checkpoints as { seq: number; hash: string; time: string; root?: string; note: string }[];
    expect(cps.some((c) => c.root === undefined && !c.note.includes("\nchain "))).toBe(true);
    expect(cps.some((c) => c.root !== undefined && c.note.includes("\nchain "))).toBe(true);
    const exp = await fetch(`${api.url}/v1/events/export?format=jsonl`, { headers: { authorization: `Bearer ${key}` } });
    const file = path.join(dir, "old.jsonl");
    writeFileSync(file, await exp.text());
    writeFileSync(path.join(dir, "cps.json"), JSON.stringify({ checkpoints: cps }));
    writeFileSync(path.join(dir, "key.json"), JSON.stringify((await call(api.url, "GET", "/v1/integrity/public-key")).body));
    const r = spawnSync(process.execPath, [cli, "verify", file, "--checkpoint", path.join(dir, "cps.json"), "--public-key", path.join(dir, "key.json"), "--json"], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ exitCode: 0, complete: true, checkpointsMatched: cps.length });

    // The Merkle root a checkpoint signs is recomputed from a complete export: a signed root that the events do
    // not give (a tree kept apart from the chain) is a mismatch even though the chain hash line agrees.
    const signer = await loadSigningKey(await testSigningKeyFile(db), "trailkeeper.dev/audit", false);
    const at = cps.find((c) => c.root !== undefined)!;
    const { note } = signCheckpoint("trailkeeper.dev/audit", { tenant, seq: at.seq, hash: at.hash, root: "ab".repeat(32), time: at.time }, signer);
    writeFileSync(path.join(dir, "bad-root.json"), JSON.stringify({ checkpoints: [{ note }] }));
    const bad = spawnSync(process.execPath, [cli, "verify", file, "--checkpoint", path.join(dir, "bad-root.json"), "--public-key", path.join(dir, "key.json"), "--json"], { encoding: "utf8" });
    expect(bad.status).toBe(1);
    expect(JSON.parse(bad.stdout).failure).toMatchObject({ seq: at.seq, reason: "checkpoint_mismatch" });
  });
});

describe("the optimistic append and the back-fill job", () => {
  const pending = (tenant: string, n: number) => Array.from({ length: n }, () => toPendingEvent(eventInputSchema.parse(sampleEvent()), tenant, uuidv7(), new Date()));

  it("writes nothing when the back-fill job moved the tree since the head was read, then appends with the tree", async () => {
    const tenant = "merkle-race";
    await inTransaction(db.pool, (c) => createTenant(c, tenant));
    await inTransaction(db.pool, (c) => appendToChainWithHead(c, tenant, pending(tenant, 3)));
    await appendWithoutTree(tenant, 2);
    const cached = (await readAppendHead(db.pool, tenant))!;
    expect([cached.seq, cached.tree.size]).toEqual([5, 3]);
    expect(await backfillTreeStep(db.pool, tenant)).toBe(0);
    expect(await appendAtHead(db.pool, tenant, cached, pending(tenant, 2))).toBeUndefined();
    expect((await chainHashes(tenant)).length).toBe(5);
    const done = await appendAtHead(db.pool, tenant, (await readAppendHead(db.pool, tenant))!, pending(tenant, 4));
    expect(done?.head).toMatchObject({ seq: 9, tree: { size: 9 } });
    expect(await readAppendHead(db.pool, tenant)).toEqual(done!.head);
    // The incrementally kept frontier has the root recomputed from the stored leaves.
    expect(treeRoot(done!.head.tree)).toEqual((await treeRootsAt(db.pool, tenant, [9]))[0]);
  });
});

describe("provable filtered exports: proof bundles and trailkeeper verify --proofs", () => {
  const tenant = "merkle-export";
  let key: string;
  let exportText: string;
  let bundle: { treeSize: number; proofs: { seq: number; hash: string; proof: string[] }[] };

  const files = (name: string, content: string) => {
    const f = path.join(dir, name);
    writeFileSync(f, content);
    return f;
  };
  const verifyCli = (exp: string, bundles: unknown[], extra: string[] = ["--filtered"]) => {
    const args = [cli, "verify", files("export.jsonl", exp), "--public-key", path.join(dir, "export-key.json"), "--json", ...extra];
    bundles.forEach((b, i) => args.push("--proofs", files(`bundle-${i}.json`, JSON.stringify(b))));
    const r = spawnSync(process.execPath, args, { encoding: "utf8" });
    return { code: r.status, report: r.stdout ? JSON.parse(r.stdout) : undefined, stderr: r.stderr };
  };

  beforeAll(async () => {
    key = await tenantWithKey(api.url, tenant, scopes);
    const mixed = Array.from({ length: 120 }, (_, i) => sampleEvent(i % 7 === 0 ? { action: "auth.login" } : {}));
    await post(key, mixed);
    await api.checkpointer.runOnce(true);
    files("export-key.json", JSON.stringify((await call(api.url, "GET", "/v1/integrity/public-key")).body));
    const exp = await fetch(`${api.url}/v1/events/export?format=jsonl&action=auth.login`, { headers: { authorization: `Bearer ${key}` } });
    exportText = await exp.text();
    const seqs = exportText.trim().split("\n").map((l) => (JSON.parse(l) as { seq: number }).seq);
    expect(seqs).toHaveLength(18);
    const res = await call(api.url, "POST", "/v1/integrity/proofs", { token: key, body: { seqs } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    bundle = res.body;
  }, 60_000);

  it("proves every event of a filtered export in the signed tree, without the rest of the log", () => {
    expect(bundle).toMatchObject({ format: "trailkeeper-proofs/1", tenant, treeSize: 121 });
    const r = verifyCli(exportText, [bundle]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.report).toMatchObject({ exitCode: 0, filtered: true, proven: 18, events: 18 });
  });

  it("catches a fabricated event that a filtered export alone cannot (its own hash is consistent)", () => {
    const lines = exportText.trim().split("\n");
    const forged = JSON.parse(lines[3]!) as StoredEvent;
    forged.details = { n: -1 };
    forged.hash = eventHash(forged);
    const exp = [...lines.slice(0, 3), JSON.stringify(forged), ...lines.slice(4)].join("\n") + "\n";
    expect(verifyCli(exp, []).code).toBe(0);
    const r = verifyCli(exp, [bundle]);
    expect(r.code).toBe(1);
    expect(r.report.failure).toMatchObject({ seq: forged.seq, reason: "inclusion_proof_invalid" });
  });

  it("rejects a forged proof, an event without a proof, and a bundle claiming another tree size", () => {
    const flipped = structuredClone(bundle);
    const h = Buffer.from(flipped.proofs[5]!.proof[2]!, "base64");
    h[7]! ^= 0x40;
    flipped.proofs[5]!.proof[2] = h.toString("base64");
    expect(verifyCli(exportText, [flipped]).report.failure).toMatchObject({ seq: bundle.proofs[5]!.seq, reason: "inclusion_proof_invalid" });
    const partial = { ...bundle, proofs: bundle.proofs.slice(1) };
    expect(verifyCli(exportText, [partial]).report.failure).toMatchObject({ seq: bundle.proofs[0]!.seq, reason: "inclusion_proof_invalid" });
    const resized = verifyCli(exportText, [{ ...bundle, treeSize: bundle.treeSize + 1 }]);
    expect(resized.code).toBe(2);
    expect(resized.stderr).toMatch(/claims tree size 122/);
  });

  it("answers bad bundle requests with a problem", async () => {
    const cases: [unknown, number, string][] = [
      [{ seqs: [] }, 400, "invalid_request"],
      [{ seqs: [1, 500] }, 400, "invalid_tree_size"],
      [{ seqs: [1], size: 7 }, 404, "no_checkpoint"],
      [{ seqs: [1], extra: true }, 400, "invalid_request"],
      [{ seqs: ["1"] }, 400, "invalid_request"],
    ];
    for (const [body, status, code] of cases) {
      const res = await call(api.url, "POST", "/v1/integrity/proofs", { token: key, body });
      expect([res.status, res.body.code], JSON.stringify(body)).toEqual([status, code]);
    }
  });
});
