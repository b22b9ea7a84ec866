import { GetObjectCommand, GetObjectRetentionCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import type { RunningApiServer } from "../../../api-server/src/server.ts";
import type { RunningOperator } from "../../../operator/src/operator.ts";
import { policies, startS3IamGateway, type S3IamGateway } from "../../protocol-servers/s3-iam-gateway.ts";
import { startS3rver, type LocalS3 } from "../../protocol-servers/s3-server.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../../protocol-servers/webhook-receiver.ts";
import { webhookSecret } from "../destinations/check-helpers.ts";
import { call, sampleEvent, startTestApi, tenantWithKey } from "../../support/api.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { createResource, createTestNamespace, deleteTestNamespace, putSecret, testKube } from "../../support/kube-client.ts";
import { metricValue, startTestOperator, testOperatorEnv } from "../../support/kube-operator.ts";

const kube = testKube(inject("kubeconfigPath"));
const bucket = "audit-witness";
let namespace: string;
let db: TestDatabase;
let api: RunningApiServer;
let s3rver: LocalS3;
let gateway: S3IamGateway;
let reader: S3Client;
let operator: RunningOperator;
let receiver: WebhookReceiver;
/** The tenant's API key, made by the first test. */
let tenantKey: string;

beforeAll(async () => {
  namespace = await createTestNamespace(kube, "op-witness");
  db = await freshDatabase();
  api = await startTestApi(db, { TRAILKEEPER_CHECKPOINT_EVERY_EVENTS: "1000000", TRAILKEEPER_CHECKPOINT_EVERY_SECONDS: "3600" });
  s3rver = await startS3rver([bucket]);
  gateway = await startS3IamGateway({ upstream: s3rver.endpoint, objectLockBuckets: [bucket], keys: { AKIAWITNESS: { secretAccessKey: "witness-secret", allow: policies.readWrite } } });
  reader = new S3Client({ region: "us-east-1", endpoint: gateway.endpoint, forcePathStyle: true, credentials: { accessKeyId: "AKIAWITNESS", secretAccessKey: "witness-secret" } });
  await putSecret(kube, namespace, "s3", { AWS_ACCESS_KEY_ID: "AKIAWITNESS", AWS_SECRET_ACCESS_KEY: "witness-secret" });
  receiver = await startWebhookReceiver({ secret: webhookSecret });
  await putSecret(kube, namespace, "siem", { "signing-secret": webhookSecret });
  operator = await startTestOperator(testOperatorEnv(kube.kubeconfigPath, namespace, {
    DATABASE_URL: db.url, CHECKPOINT_PUBLISH_INTERVAL_SECONDS: "0.5", CHECKPOINT_RETENTION_MODE: "GOVERNANCE", CHECKPOINT_RETENTION_DAYS: "7",
  }));
}, 60_000);

afterAll(async () => {
  await operator?.stop();
  reader?.destroy();
  await receiver?.close();
  await gateway?.close();
  await s3rver?.close();
  await api?.close();
  await db?.drop();
  if (namespace) await deleteTestNamespace(kube, namespace);
});

const published = async () => ((await reader.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `witness/checkpoints/${namespace}/` }))).Contents ?? []).map((o) => o.Key!).sort();

describe("the operator's leader publishes the tenant's checkpoints to its RecordingStorage and destinations", () => {
  it("writes every checkpoint note into the bucket, with the configured Object Lock retention, as they are signed", async () => {
    // The namespace has no tenant label, so its name is the tenant.
    const key = await tenantWithKey(api.url, namespace, ["events:write", "integrity:read"]);
    tenantKey = key;
    await call(api.url, "POST", "/v1/events", { token: key, body: { events: Array.from({ length: 7 }, () => sampleEvent()) } });
    await api.checkpointer.runOnce(true);
    await createResource(kube, "recordingstorages", namespace, "witness", {
      bucket, endpoint: gateway.endpoint, forcePathStyle: true, allowInsecureHttp: true, prefix: "witness", credentialsSecretRef: { name: "s3" },
    });
    await vi.waitFor(async () => expect(await published()).toHaveLength(1), { timeout: 20_000, interval: 200 });

    await call(api.url, "POST", "/v1/events", { token: key, body: { events: Array.from({ length: 3 }, () => sampleEvent()) } });
    await api.checkpointer.runOnce(true);
    const cps = (await call(api.url, "GET", "/v1/integrity/checkpoints", { token: key })).body.checkpoints as { seq: number; root: string; note: string }[];
    const expected = cps.map((c) => `witness/checkpoints/${namespace}/${String(c.seq).padStart(20, "0")}-${c.root.slice(0, 16)}.note`).sort();
    await vi.waitFor(async () => expect(await published()).toEqual(expected), { timeout: 20_000, interval: 200 });

    for (const c of cps) {
      const k = `witness/checkpoints/${namespace}/${String(c.seq).padStart(20, "0")}-${c.root.slice(0, 16)}.note`;
      expect(await (await reader.send(new GetObjectCommand({ Bucket: bucket, Key: k }))).Body!.transformToString()).toBe(c.note);
      const r = await reader.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: k }));
      expect(r.Retention?.Mode).toBe("GOVERNANCE");
      const days = (r.Retention!.RetainUntilDate!.getTime() - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(6.9);
      expect(days).toBeLessThanOrEqual(7);
    }
    const cursor = (await db.pool.query("SELECT tenant, published_seq, resource FROM checkpoint_publications")).rows;
    expect(cursor).toEqual([{ tenant: namespace, published_seq: Math.max(...cps.map((c) => c.seq)), resource: `${namespace}/witness` }]);
    expect(metricValue(await operator.metrics.registry.metrics(), "trailkeeper_checkpoints_published_total", { target: `${namespace}/witness`, kind: "bucket" })).toBe(cps.length);
  });

  it("sends each checkpoint signed from then on to the tenant's LogForwardingDestination as a trailkeeper.checkpoint delivery", async () => {
    await createResource(kube, "logforwardingdestinations", namespace, "siem", {
      webhook: { url: `${receiver.url}/ingest`, allowInsecureHttp: true, signingSecretRef: { name: "siem", key: "signing-secret" } },
    });
    const notesReceived = () => receiver.received.map((r) => r.payload as { type: string; checkpoint?: { note: string } }).filter((p) => p.type === "trailkeeper.checkpoint").map((p) => p.checkpoint!.note);
    const latestNote = async () => (await db.pool.query<{ note: string }>("SELECT note FROM checkpoints WHERE tenant = $1 ORDER BY seq DESC LIMIT 1", [namespace])).rows[0]!.note;
    // A new destination starts with the latest checkpoint, as it starts at the head for events.
    const first = await latestNote();
    await vi.waitFor(() => expect(notesReceived()).toEqual([first]), { timeout: 20_000, interval: 200 });
    await call(api.url, "POST", "/v1/events", { token: tenantKey, body: { events: [sampleEvent()] } });
    await api.checkpointer.runOnce(true);
    const next = await latestNote();
    await vi.waitFor(() => expect(notesReceived()).toEqual([first, next]), { timeout: 20_000, interval: 200 });
    expect(receiver.rejected).toEqual([]);
    expect(metricValue(await operator.metrics.registry.metrics(), "trailkeeper_checkpoints_published_total", { target: `${namespace}/siem`, kind: "webhook" })).toBe(2);
  });
});
