import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningApiServer } from "../../../api-server/src/server.ts";
import { canonicalJson } from "../../../core/src/events/canonical.ts";
import { eventHash } from "../../../core/src/events/chain.ts";
import { eventSelectList, rowToEvent } from "../../../core/src/db/event-rows.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { call, sampleEvent, startTestApi, tenantWithKey } from "../../support/api.ts";

let db: TestDatabase;
let a: RunningApiServer;
let b: RunningApiServer;
const dir = mkdtempSync(path.join(tmpdir(), "tk-verify-"));
const cli = path.resolve(import.meta.dirname, "../../../api-server/src/cli.ts");

// Checkpoints are forced explicitly, so periodic ones cannot interfere.
const env = { TRAILKEEPER_CHECKPOINT_EVERY_EVENTS: "1000000", TRAILKEEPER_CHECKPOINT_EVERY_SECONDS: "3600" };

beforeAll(async () => {
  db = await freshDatabase();
  [a, b] = await Promise.all([startTestApi(db, env), startTestApi(db, env)]);
});
afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await db?.drop();
});

let tenantNo = 0;
interface Trail { tenant: string; key: string }

/** A tenant with `n` events (seq 2..n+1 after the key's own apikey.create) and a checkpoint after `checkpointAt` events. */
async function trail(n: number, checkpointAt: number): Promise<Trail> {
  const tenant = `t${++tenantNo}`;
  const key = await tenantWithKey(a.url, tenant, ["events:write", "events:export", "integrity:read"]);
  await call(a.url, "POST", "/v1/events", { token: key, body: { events: Array.from({ length: checkpointAt - 1 }, () => sampleEvent()) } });
  await a.checkpointer.runOnce(true);
  await call(a.url, "POST", "/v1/events", { token: key, body: { events: Array.from({ length: n + 1 - checkpointAt }, () => sampleEvent()) } });
  return { tenant, key };
}

async function verifyEndpoint(t: Trail, query = "") {
  const res = await call(a.url, "GET", `/v1/integrity/verify${query}`, { token: t.key });
  expect(res.status).toBe(200);
  return res.body as { ok: boolean; checked: number; headSeq: number; headHash: string; failure?: { seq: number; reason: string } };
}

/** Saves an unfiltered export, the checkpoints and the public key, then runs the offline verifier. */
async function offline(t: Trail, extra: string[] = [], format = "jsonl") {
  const exp = await fetch(`${a.url}/v1/events/export?format=${format}`, { headers: { authorization: `Bearer ${t.key}` } });
  const file = path.join(dir, `${t.tenant}.${format}`);
  writeFileSync(file, await exp.text());
  writeFileSync(path.join(dir, "cps.json"), JSON.stringify((await call(a.url, "GET", "/v1/integrity/checkpoints", { token: t.key })).body));
  writeFileSync(path.join(dir, "key.json"), JSON.stringify((await call(a.url, "GET", "/v1/integrity/public-key")).body));
  const r = spawnSync(process.execPath, [cli, "verify", file, "--checkpoint", path.join(dir, "cps.json"), "--public-key", path.join(dir, "key.json"), "--json", ...extra], { encoding: "utf8" });
  return { code: r.status, report: r.stdout ? JSON.parse(r.stdout) : undefined, stderr: r.stderr };
}

/** Tampering as a database superuser would do it: triggers off for the session. */
async function tamper(sql: string, params: unknown[] = []) {
  const su = await db.superuser();
  try {
    await su.query("SET session_replication_role = replica");
    await su.query(sql, params);
  } finally {
    await su.end();
  }
}

describe("an untouched chain", () => {
  let t: Trail;
  beforeEach(async () => {
    t = await trail(30, 20);
  });

  it("verifies through the endpoint, whole and by range", async () => {
    const whole = await verifyEndpoint(t);
    expect(whole).toMatchObject({ ok: true, checked: 31, headSeq: 31 });
    expect(whole.failure).toBeUndefined();
    expect(await verifyEndpoint(t, "?fromSeq=10&toSeq=25")).toMatchObject({ ok: true, checked: 16, headSeq: 25 });
  });

  it("rejects parameters the endpoint does not take (a search filter would be silently ignored)", async () => {
    for (const [path, bad] of [["/v1/integrity/verify?action=auth.login", "action"], ["/v1/integrity/checkpoints?actor=x", "actor"]] as const) {
      const res = await call(a.url, "GET", path, { token: t.key });
      expect(res.status, path).toBe(400);
      expect(res.body.errors, path).toEqual([{ path: bad, message: "unknown parameter" }]);
    }
  });

  it("verifies offline from JSONL and from CSV, with the signed checkpoint matched", async () => {
    for (const format of ["jsonl", "csv"]) {
      const r = await offline(t, [], format);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.report).toMatchObject({ exitCode: 0, format, complete: true, checkpointsMatched: 1, missing: [] });
    }
  });

  it("publishes checkpoints as C2SP signed notes and pages them", async () => {
    await a.checkpointer.runOnce(true);
    const latest = await call(a.url, "GET", "/v1/integrity/checkpoints/latest", { token: t.key });
    expect(latest.status).toBe(200);
    const head = (await db.pool.query("SELECT seq, hash FROM chain_heads WHERE tenant = $1", [t.tenant])).rows[0];
    expect(latest.body).toMatchObject({ tenant: t.tenant, seq: head.seq, hash: head.hash, root: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const lines = (latest.body.note as string).split("\n");
    // tlog-checkpoint: the Merkle root on the root hash line, the chain head as an extension line (docs/integrity.md §4).
    expect(lines.slice(0, 4)).toEqual([`trailkeeper.dev/audit/${t.tenant}`, String(head.seq), Buffer.from(latest.body.root, "hex").toString("base64"), `chain ${head.hash}`]);
    expect(lines[4]).toMatch(/^time \d{4}-\d\d-\d\dT/);
    expect(lines[5]).toBe("");
    expect(lines[6]).toMatch(/^\u2014 trailkeeper\.dev\/audit [A-Za-z0-9+/]{91}=$/);
    const page1 = await call(a.url, "GET", "/v1/integrity/checkpoints?limit=1", { token: t.key });
    const page2 = await call(a.url, "GET", `/v1/integrity/checkpoints?limit=1&cursor=${page1.body.nextCursor}`, { token: t.key });
    expect([page1.body.checkpoints[0].seq, page2.body.checkpoints[0].seq]).toEqual([head.seq, 20]);
    expect(page2.body.nextCursor).toBeNull();
  });
});

describe("tampering through a superuser connection is detected by the endpoint and offline", () => {
  const cases: { name: string; apply: (t: Trail) => Promise<void>; reason: string; seq?: number }[] = [
    {
      name: "(a) a details value changed",
      apply: (t) => tamper("UPDATE events SET details = '{\"n\": -1}' WHERE tenant = $1 AND seq = 12", [t.tenant]),
      reason: "hash_mismatch", seq: 12,
    },
    {
      name: "(b) a middle row deleted",
      apply: (t) => tamper("DELETE FROM events WHERE tenant = $1 AND seq = 15", [t.tenant]),
      reason: "gap", seq: 15,
    },
    {
      name: "(c) two rows' contents swapped",
      apply: (t) => tamper(`UPDATE events e SET actor_id = o.actor_id, resource_id = o.resource_id, details = o.details
                              FROM events o WHERE e.tenant = $1 AND o.tenant = $1 AND ((e.seq = 8 AND o.seq = 9) OR (e.seq = 9 AND o.seq = 8))`, [t.tenant]),
      reason: "hash_mismatch", seq: 8,
    },
    {
      name: "(d) the tail deleted after a checkpoint",
      apply: async (t) => {
        await tamper("DELETE FROM events WHERE tenant = $1 AND seq > 18", [t.tenant]);
        await tamper("UPDATE chain_heads h SET seq = 18, hash = e.hash FROM events e WHERE h.tenant = $1 AND e.tenant = $1 AND e.seq = 18", [t.tenant]);
      },
      reason: "truncated",
    },
    {
      name: "(e) every row rewritten and every hash recomputed",
      apply: async (t) => {
        const rows = (await db.pool.query(`SELECT ${eventSelectList} FROM events WHERE tenant = $1 ORDER BY seq`, [t.tenant])).rows.map(rowToEvent);
        let prev = rows[0]!.prevHash;
        const su = await db.superuser();
        await su.query("SET session_replication_role = replica");
        for (const e of rows) {
          const forged = { ...e, prevHash: prev, details: e.seq === 5 ? { n: "forged" } : e.details };
          forged.hash = eventHash(forged);
          await su.query("UPDATE events SET details = $3, prev_hash = $4, hash = $5 WHERE tenant = $1 AND seq = $2", [t.tenant, e.seq, forged.details === undefined ? null : canonicalJson(forged.details), forged.prevHash, forged.hash]);
          prev = forged.hash;
        }
        await su.query("UPDATE chain_heads SET hash = $2 WHERE tenant = $1", [t.tenant, prev]);
        await su.end();
      },
      reason: "checkpoint_mismatch", seq: 20,
    },
  ];

  it.each(cases)("$name", async (c) => {
    const t = await trail(30, 20);
    await c.apply(t);
    const v = await verifyEndpoint(t);
    expect(v.ok).toBe(false);
    expect(v.failure!.reason).toBe(c.reason);
    if (c.seq) expect(v.failure!.seq).toBe(c.seq);
    const r = await offline(t);
    expect(r.code).toBe(1);
    expect(r.report.failure.reason).toBe(c.reason);
  });

  it("(e) without the signed checkpoint the recomputed chain would look valid: the checkpoint is what catches it", async () => {
    const t = await trail(30, 20);
    await cases[4]!.apply(t);
    const r = spawnSync(process.execPath, [cli, "verify", path.join(dir, "none.jsonl")], { encoding: "utf8" });
    expect(r.status).toBe(2); // unusable: the file does not exist
    const exp = await fetch(`${a.url}/v1/events/export?format=jsonl`, { headers: { authorization: `Bearer ${t.key}` } });
    const file = path.join(dir, "nocp.jsonl");
    writeFileSync(file, await exp.text());
    expect(spawnSync(process.execPath, [cli, "verify", file], { encoding: "utf8" }).status).toBe(0);
  });
});

describe("offline verifier edge cases", () => {
  it("reports missing seq ranges, accepts a declared filtered export, and rejects unusable input", async () => {
    const t = await trail(12, 5);
    // seq 14 is the only user.* event, so a resource.* export has a hole there.
    await call(a.url, "POST", "/v1/events", { token: t.key, body: sampleEvent({ action: "user.update" }) });
    await call(a.url, "POST", "/v1/events", { token: t.key, body: sampleEvent() });
    const exp = await fetch(`${a.url}/v1/events/export?format=jsonl&action=resource.*`, { headers: { authorization: `Bearer ${t.key}` } });
    const file = path.join(dir, "filtered.jsonl");
    const text = await exp.text();
    writeFileSync(file, text);
    const strict = spawnSync(process.execPath, [cli, "verify", file, "--json"], { encoding: "utf8" });
    expect(strict.status).toBe(1);
    expect(JSON.parse(strict.stdout)).toMatchObject({ firstSeq: 2, lastSeq: 15, missing: [{ from: 14, to: 14 }], failure: { reason: "gap", seq: 14 } });
    const filtered = spawnSync(process.execPath, [cli, "verify", file, "--filtered"], { encoding: "utf8" });
    expect(filtered.status).toBe(0);
    expect(filtered.stdout).toMatch(/completeness cannot be shown/);
    const edited = text.replace('"n":', '"n":1e3,"m":');
    writeFileSync(file, edited);
    expect(spawnSync(process.execPath, [cli, "verify", file, "--filtered"], { encoding: "utf8" }).status).toBe(1);
    writeFileSync(file, "this is not an export\n");
    expect(spawnSync(process.execPath, [cli, "verify", file], { encoding: "utf8" }).status).toBe(2);
  });
});

describe("checkpoints from several replicas", () => {
  it("never conflict: one checkpoint per head, strictly increasing", async () => {
    const t = await trail(40, 10);
    for (let i = 0; i < 5; i++) {
      await call(a.url, "POST", "/v1/events", { token: t.key, body: sampleEvent() });
      await Promise.all([a.checkpointer.runOnce(true), b.checkpointer.runOnce(true), a.checkpointer.runOnce(true)]);
    }
    const rows = (await db.pool.query("SELECT seq, hash FROM checkpoints WHERE tenant = $1 ORDER BY seq", [t.tenant])).rows;
    expect(rows.map((r) => r.seq)).toEqual([10, 42, 43, 44, 45, 46]);
    expect((await verifyEndpoint(t)).ok).toBe(true);
  });
});
