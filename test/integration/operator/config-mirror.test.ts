import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import type { RunningApiServer } from "../../../api-server/src/server.ts";
import type { RunningOperator } from "../../../operator/src/operator.ts";
import { call, startTestApi, tenantWithKey } from "../../support/api.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { condition, createResource, createTestNamespace, deleteTestNamespace, getResource, patchSpec, putSecret, testKube } from "../../support/kube-client.ts";
import { startTestOperator, testOperatorEnv } from "../../support/kube-operator.ts";

const kube = testKube(inject("kubeconfigPath"));
const hookSecret = `whsec_${randomBytes(32).toString("base64")}`;
const s3Secret = `s3-secret-${randomBytes(8).toString("hex")}`;
const waitLong = { timeout: 60_000, interval: 250 };

let namespace: string;
let otherTenant: string;
let db: TestDatabase;
let api: RunningApiServer;
let operator: RunningOperator;
let reader: string;
let noScope: string;
let otherReader: string;

beforeAll(async () => {
  namespace = await createTestNamespace(kube, "op-mirror");
  otherTenant = `${namespace}-b`;
  db = await freshDatabase();
  api = await startTestApi(db);
  reader = await tenantWithKey(api.url, namespace, ["config:read"]);
  noScope = (await call(api.url, "POST", `/v1/admin/tenants/${namespace}/api-keys`, { token: "test-admin-token-0123456789abcdef0123456789", body: { scopes: ["events:read"] } })).body.key as string;
  otherReader = await tenantWithKey(api.url, otherTenant, ["config:read"]);
  await putSecret(kube, namespace, "creds", { hook: hookSecret, AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: s3Secret });
  operator = await startTestOperator(testOperatorEnv(kube.kubeconfigPath, namespace, { DATABASE_URL: db.url, DELIVERY_STATUS_INTERVAL_SECONDS: "1" }));
});

afterAll(async () => {
  await operator?.stop();
  await api?.close();
  await db?.drop();
  if (namespace) await deleteTestNamespace(kube, namespace);
});

const mirrorRow = async (kind: string, name: string) =>
  (await db.pool.query<{ enabled: boolean; endpoint: string; type: string; tenant: string; uid: string; conditions: { type: string; reason: string }[] }>(
    "SELECT * FROM config_mirror WHERE kind = $1 AND namespace = $2 AND name = $3", [kind, namespace, name],
  )).rows[0];

/** Every mirrored byte, to look for secret values in. */
const wholeMirror = async () => JSON.stringify((await db.pool.query("SELECT * FROM config_mirror")).rows);

describe("the config mirror and its API", () => {
  it("mirrors a created destination and storage, without credentials, to their tenant's config:read keys only", async () => {
    // The webhook receiver is absent: the check fails, which the mirror reports like any status.
    await createResource(kube, "logforwardingdestinations", namespace, "siem", { webhook: { url: "http://127.0.0.1:9/audit?token=query-secret", allowInsecureHttp: true, signingSecretRef: { name: "creds", key: "hook" } } });
    await createResource(kube, "recordingstorages", namespace, "recs", { bucket: "recordings", endpoint: "http://127.0.0.1:9", forcePathStyle: true, allowInsecureHttp: true, credentialsSecretRef: { name: "creds" } });

    const row = await vi.waitFor(async () => {
      const r = await mirrorRow("LogForwardingDestination", "siem");
      expect(r?.conditions.map((c) => c.type)).toContain("Ready");
      return r!;
    }, waitLong);
    expect(row).toMatchObject({ tenant: namespace, type: "webhook", enabled: true, endpoint: "http://127.0.0.1:9/audit" });
    await vi.waitFor(async () => expect((await mirrorRow("RecordingStorage", "recs"))?.conditions.length).toBeGreaterThan(0), waitLong);
    const everything = await wholeMirror();
    for (const secret of [hookSecret, s3Secret, "query-secret", "AKIDEXAMPLE"]) expect(everything).not.toContain(secret);

    const list = await call(api.url, "GET", "/v1/destinations", { token: reader });
    expect(list.status).toBe(200);
    expect(list.body.destinations).toEqual([expect.objectContaining({ namespace, name: "siem", type: "webhook", enabled: true, endpoint: "http://127.0.0.1:9/audit" })]);
    expect(list.body.destinations[0].conditions).toContainEqual(expect.objectContaining({ type: "Ready" }));
    const one = await call(api.url, "GET", `/v1/destinations/${namespace}/siem`, { token: reader });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ name: "siem", uid: row.uid });
    // The whole spec as the kube-apiserver stores it (its defaults filled in), the query string cut, no status in it.
    expect(one.body.spec).toMatchObject({
      enabled: true, checkInterval: "5m", timeout: "10s", delivery: { batchSize: 500, onPermanentError: "deadLetter" },
      webhook: { url: "http://127.0.0.1:9/audit", allowInsecureHttp: true, signingSecretRef: { name: "creds", key: "hook" } },
    });
    expect(one.body.specRedacted).toEqual(["webhook.url"]);
    expect(JSON.stringify(one.body.spec)).not.toMatch(/conditions|lastCheck/);
    expect(list.body.destinations[0]).not.toHaveProperty("spec");
    const storages = await call(api.url, "GET", "/v1/recording-storages", { token: reader });
    expect(storages.body.recordingStorages).toEqual([expect.objectContaining({ name: "recs", type: "s3", endpoint: "http://127.0.0.1:9/", details: expect.objectContaining({ bucket: "recordings" }) })]);
    expect(storages.body.recordingStorages[0].spec).toMatchObject({ bucket: "recordings", region: "us-east-1", forcePathStyle: true, credentialsSecretRef: { name: "creds", accessKeyIdKey: "AWS_ACCESS_KEY_ID" } });

    const forbidden = await call(api.url, "GET", "/v1/destinations", { token: noScope });
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get("content-type")).toContain("application/problem+json");
    expect((await call(api.url, "GET", "/v1/recording-storages", { token: noScope })).status).toBe(403);
    expect((await call(api.url, "GET", "/v1/destinations", { token: otherReader })).body).toEqual({ destinations: [] });
    expect((await call(api.url, "GET", "/v1/recording-storages", { token: otherReader })).body).toEqual({ recordingStorages: [] });
    expect((await call(api.url, "GET", `/v1/destinations/${namespace}/siem`, { token: otherReader })).status).toBe(404);
    expect((await call(api.url, "GET", `/v1/destinations/${namespace}/siem/dead-letters`, { token: otherReader })).status).toBe(404);
  }, 120_000);

  it("pages a destination's dead letters with their reasons, newest first, and only the tenant's", async () => {
    const { uid } = (await mirrorRow("LogForwardingDestination", "siem"))!;
    for (const seq of [1, 2, 3]) {
      await db.pool.query("INSERT INTO dead_letters (destination_uid, tenant, seq, event_id, reason) VALUES ($1, $2, $3, $4, $5)", [uid, namespace, seq, randomUUID(), `HTTP 400: bad event ${seq}`]);
    }
    await db.pool.query("INSERT INTO dead_letters (destination_uid, tenant, seq, event_id, reason) VALUES ($1, $2, 99, $3, 'not yours')", [uid, otherTenant, randomUUID()]);
    const first = await call(api.url, "GET", `/v1/destinations/${namespace}/siem/dead-letters?limit=2`, { token: reader });
    expect(first.status).toBe(200);
    expect(first.body.deadLetters.map((d: { seq: number; reason: string }) => [d.seq, d.reason])).toEqual([[3, "HTTP 400: bad event 3"], [2, "HTTP 400: bad event 2"]]);
    const second = await call(api.url, "GET", `/v1/destinations/${namespace}/siem/dead-letters?limit=2&cursor=${first.body.nextCursor}`, { token: reader });
    expect(second.body).toEqual({ deadLetters: [expect.objectContaining({ seq: 1, reason: "HTTP 400: bad event 1" })], nextCursor: null });
    expect((await call(api.url, "GET", `/v1/destinations/${namespace}/siem/dead-letters?limit=0`, { token: reader })).status).toBe(400);
    expect((await call(api.url, "GET", `/v1/destinations/${namespace}/siem/dead-letters?cursor=nope`, { token: reader })).status).toBe(400);
  });

  it("updates the mirror when the spec changes and removes it when the resource is deleted", async () => {
    const current = await getResource(kube, "logforwardingdestinations", namespace, "siem");
    await patchSpec(kube, "logforwardingdestinations", namespace, "siem", { ...current.spec, enabled: false });
    await vi.waitFor(async () => {
      const r = await mirrorRow("LogForwardingDestination", "siem");
      expect(r?.enabled).toBe(false);
      expect(r?.conditions.find((c) => c.type === "Ready")?.reason).toBe("Disabled");
    }, waitLong);
    expect(condition(await getResource(kube, "logforwardingdestinations", namespace, "siem"), "Ready")?.reason).toBe("Disabled");
    const shown = await call(api.url, "GET", `/v1/destinations/${namespace}/siem`, { token: reader });
    expect(shown.body.enabled).toBe(false);

    await kube.custom.deleteNamespacedCustomObject({ group: "trailkeeper.dev", version: "v1alpha1", plural: "logforwardingdestinations", namespace, name: "siem" });
    await vi.waitFor(async () => expect(await mirrorRow("LogForwardingDestination", "siem")).toBeUndefined(), waitLong);
    expect((await call(api.url, "GET", `/v1/destinations/${namespace}/siem`, { token: reader })).status).toBe(404);
    expect((await call(api.url, "GET", "/v1/destinations", { token: reader })).body).toEqual({ destinations: [] });
  }, 90_000);

  it("prunes, when a new leader starts, the rows of resources deleted while no operator ran", async () => {
    expect(await mirrorRow("RecordingStorage", "recs")).toBeDefined();
    await operator.stop();
    await kube.custom.deleteNamespacedCustomObject({ group: "trailkeeper.dev", version: "v1alpha1", plural: "recordingstorages", namespace, name: "recs" });
    operator = await startTestOperator(testOperatorEnv(kube.kubeconfigPath, namespace, { DATABASE_URL: db.url, POD_NAME: "successor" }));
    await vi.waitFor(async () => expect(await mirrorRow("RecordingStorage", "recs")).toBeUndefined(), waitLong);
    expect(operator.leader.isLeader).toBe(true);
  }, 90_000);
});
