import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { GetObjectCommand, GetObjectRetentionCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApiServer } from "../../../api-server/src/server.ts";
import { recordingStorageSpecSchema } from "../../../core/src/crd/recording-storage.ts";
import { publishedSeq } from "../../../core/src/db/checkpoint-publications.ts";
import { secretSourceFrom } from "../../../core/src/secrets.ts";
import { publishCheckpointsToBucket, type BucketTarget } from "../../../core/src/storage/checkpoint-publisher.ts";
import { createS3Client } from "../../../core/src/storage/s3-client.ts";
import { policies, startS3IamGateway, type S3IamGateway } from "../../protocol-servers/s3-iam-gateway.ts";
import { startS3rver, type LocalS3 } from "../../protocol-servers/s3-server.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { call, sampleEvent, startTestApi, tenantWithKey } from "../../support/api.ts";
import { testEgress } from "../destinations/check-helpers.ts";

const locked = "audit-locked";
const plain = "audit-plain";
const secrets = secretSourceFrom({
  rw: { AWS_ACCESS_KEY_ID: "AKIARW", AWS_SECRET_ACCESS_KEY: "rw-secret" },
  ro: { AWS_ACCESS_KEY_ID: "AKIARO", AWS_SECRET_ACCESS_KEY: "ro-secret" },
});
const env = { TRAILKEEPER_CHECKPOINT_EVERY_EVENTS: "1000000", TRAILKEEPER_CHECKPOINT_EVERY_SECONDS: "3600" };
const cli = path.resolve(import.meta.dirname, "../../../api-server/src/cli.ts");
const dir = mkdtempSync(path.join(tmpdir(), "tk-witness-bucket-"));
const clock = new Date("2026-12-07T00:00:00.000Z");

let db: TestDatabase;
let api: RunningApiServer;
let s3rver: LocalS3;
let gateway: S3IamGateway;
let reader: S3Client;
const clients: S3Client[] = [];

beforeAll(async () => {
  db = await freshDatabase();
  api = await startTestApi(db, env);
  s3rver = await startS3rver([locked, plain]);
  gateway = await startS3IamGateway({
    upstream: s3rver.endpoint, objectLockBuckets: [locked],
    keys: { AKIARW: { secretAccessKey: "rw-secret", allow: policies.readWrite }, AKIARO: { secretAccessKey: "ro-secret", allow: policies.readOnly } },
  });
  reader = new S3Client({ region: "us-east-1", endpoint: gateway.endpoint, forcePathStyle: true, credentials: { accessKeyId: "AKIARW", secretAccessKey: "rw-secret" } });
}, 60_000);
afterAll(async () => {
  reader?.destroy();
  clients.forEach((c) => c.destroy());
  await gateway?.close();
  await s3rver?.close();
  await api?.close();
  await db?.drop();
});

function target(tenant: string, bucket: string, opts: { creds?: string; uid?: string } = {}): BucketTarget {
  const spec = recordingStorageSpecSchema.parse({
    bucket, endpoint: gateway.endpoint, forcePathStyle: true, allowInsecureHttp: true, prefix: "trail", credentialsSecretRef: { name: opts.creds ?? "rw" },
  });
  const s3 = createS3Client(spec, { secrets, egress: testEgress }, { maxAttempts: 1 });
  clients.push(s3);
  return { s3, spec, target: `s3:${opts.uid ?? bucket}`, resource: `${tenant}/storage`, tenant, retention: { mode: "COMPLIANCE", days: 30 } };
}

const keysIn = async (bucket: string, prefix: string) =>
  ((await reader.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!).sort();
const textOf = async (bucket: string, key: string) => (await (await reader.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString());

async function tenantWithCheckpoints(tenant: string, rounds: number): Promise<{ key: string; notes: { seq: number; root: string; note: string }[] }> {
  const key = await tenantWithKey(api.url, tenant, ["events:write", "events:export", "integrity:read"]);
  for (let i = 0; i < rounds; i++) {
    await call(api.url, "POST", "/v1/events", { token: key, body: { events: Array.from({ length: 5 + i }, () => sampleEvent()) } });
    await api.checkpointer.runOnce(true);
  }
  const cps = (await call(api.url, "GET", "/v1/integrity/checkpoints", { token: key })).body.checkpoints as { seq: number; root: string; note: string }[];
  return { key, notes: cps.reverse() };
}

const expectedKey = (tenant: string, c: { seq: number; root: string }) => `trail/checkpoints/${tenant}/${String(c.seq).padStart(20, "0")}-${c.root.slice(0, 16)}.note`;

describe("publishing checkpoints to the recording-storage bucket", () => {
  it("writes each checkpoint once as a note, locked in COMPLIANCE mode until the retention ends, and keeps a cursor", async () => {
    const tenant = "bucket-acme";
    const { notes } = await tenantWithCheckpoints(tenant, 3);
    const t = target(tenant, locked);
    const round = await publishCheckpointsToBucket(db.pool, t, { now: () => clock });
    expect(round).toEqual({ written: 3, present: 0, conflicts: [], objectLock: true });
    expect(await keysIn(locked, `trail/checkpoints/${tenant}/`)).toEqual(notes.map((c) => expectedKey(tenant, c)));
    for (const c of notes) {
      expect(await textOf(locked, expectedKey(tenant, c))).toBe(c.note);
      const r = await reader.send(new GetObjectRetentionCommand({ Bucket: locked, Key: expectedKey(tenant, c) }));
      expect(r.Retention).toEqual({ Mode: "COMPLIANCE", RetainUntilDate: new Date(clock.getTime() + 30 * 86_400_000) });
    }
    expect(await publishedSeq(db.pool, t.target, tenant)).toBe(notes.at(-1)!.seq);
    // Nothing new: the cursor makes the next round a no-op.
    expect(await publishCheckpointsToBucket(db.pool, t, { now: () => clock })).toEqual({ written: 0, present: 0, conflicts: [], objectLock: false });
  });

  it("never overwrites: a lost cursor republishes as `present`, and another note under a checkpoint's name is left as it is", async () => {
    const tenant = "bucket-rewind";
    const { notes } = await tenantWithCheckpoints(tenant, 2);
    const t = target(tenant, locked, { uid: "rewind" });
    // Someone (or an earlier, forged run) wrote other bytes where the second checkpoint goes.
    await reader.send(new PutObjectCommand({ Bucket: locked, Key: expectedKey(tenant, notes[1]!), Body: "not this note" }));
    const first = await publishCheckpointsToBucket(db.pool, t, { now: () => clock });
    expect(first).toEqual({ written: 1, present: 0, conflicts: [expectedKey(tenant, notes[1]!)], objectLock: true });
    expect(await textOf(locked, expectedKey(tenant, notes[1]!))).toBe("not this note");
    const row = (await db.pool.query("SELECT published_seq, last_error FROM checkpoint_publications WHERE target = $1", [t.target])).rows[0];
    expect(Number(row.published_seq)).toBe(notes[1]!.seq);
    expect(row.last_error).toMatch(/already holds another note; it was left as it is/);

    await db.pool.query("UPDATE checkpoint_publications SET published_seq = 0 WHERE target = $1", [t.target]);
    const again = await publishCheckpointsToBucket(db.pool, t, { now: () => clock });
    expect(again).toMatchObject({ written: 0, present: 1, conflicts: [expectedKey(tenant, notes[1]!)] });
  });

  it("writes without retention to a bucket without Object Lock", async () => {
    const tenant = "bucket-plain";
    const { notes } = await tenantWithCheckpoints(tenant, 1);
    const round = await publishCheckpointsToBucket(db.pool, target(tenant, plain));
    expect(round).toEqual({ written: 1, present: 0, conflicts: [], objectLock: false });
    await expect(reader.send(new GetObjectRetentionCommand({ Bucket: plain, Key: expectedKey(tenant, notes[0]!) }))).rejects.toMatchObject({ name: "NoSuchObjectLockConfiguration" });
  });

  it("keeps the cursor where it was when the bucket refuses the write, and publishes on a later round", async () => {
    const tenant = "bucket-denied";
    const { notes } = await tenantWithCheckpoints(tenant, 1);
    await expect(publishCheckpointsToBucket(db.pool, target(tenant, plain, { creds: "ro", uid: "denied" }))).rejects.toMatchObject({ name: "AccessDenied" });
    expect(await publishedSeq(db.pool, "s3:denied", tenant)).toBe(0);
    expect(await publishCheckpointsToBucket(db.pool, target(tenant, plain, { uid: "denied" }))).toMatchObject({ written: 1 });
    expect(await publishedSeq(db.pool, "s3:denied", tenant)).toBe(notes[0]!.seq);
  });

  it("gives `trailkeeper verify --witnessed` a copy of the bucket to check an export against", async () => {
    const tenant = "bucket-acme";
    const key = (await call(api.url, "POST", `/v1/admin/tenants/${tenant}/api-keys`, { token: "test-admin-token-0123456789abcdef0123456789", body: { scopes: ["events:export"] } })).body.key as string;
    const copy = path.join(dir, "copy");
    // The bucket-rewind folder holds the foreign "not this note" object, which the verifier refuses as unusable.
    for (const [bucket, folder] of [[locked, "bucket-acme"], [plain, "bucket-plain"]] as const) {
      for (const k of await keysIn(bucket, `trail/checkpoints/${folder}/`)) {
        mkdirSync(path.dirname(path.join(copy, k)), { recursive: true });
        writeFileSync(path.join(copy, k), await textOf(bucket, k));
      }
    }
    const exp = path.join(dir, "export.jsonl");
    writeFileSync(exp, await (await fetch(`${api.url}/v1/events/export?format=jsonl`, { headers: { authorization: `Bearer ${key}` } })).text());
    writeFileSync(path.join(dir, "key.json"), JSON.stringify((await call(api.url, "GET", "/v1/integrity/public-key")).body));
    const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn(process.execPath, [cli, "verify", exp, "--witnessed", copy, "--public-key", path.join(dir, "key.json"), "--json"]);
      let out = "";
      let err = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr.on("data", (d: Buffer) => (err += d.toString()));
      child.on("close", (code) => resolve({ code, out, err }));
    });
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    // The copy holds every tenant's folder; the other tenants' notes are skipped.
    expect(JSON.parse(r.out).witness).toMatchObject({ notes: 3, checkpoints: 3, forks: [], inconsistent: [] });
    expect(JSON.parse(r.out).witness.otherTenants).toBeGreaterThan(0);
  });
});
