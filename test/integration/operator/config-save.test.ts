import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import type { RunningApiServer } from "../../../api-server/src/server.ts";
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { createConfigCluster } from "../../../api-server/src/kube/cluster.ts";
import { writeResource } from "../../../api-server/src/services/config-save.ts";
import type { RunningOperator } from "../../../operator/src/operator.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../../protocol-servers/webhook-receiver.ts";
import { call, sampleEvent, startTestApi, tenantWithKey } from "../../support/api.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { condition, createTestNamespace, deleteTestNamespace, getResource, putSecret, testKube } from "../../support/kube-client.ts";
import { startTestOperator, testOperatorEnv } from "../../support/kube-operator.ts";

/**
 * Save through the Kubernetes API (issue #12 item 4) on the real kube-apiserver harness: the API server writes the
 * resource and its Secret, the real operator reconciles them and forwards to a local webhook receiver, and the
 * mirror the API reads shows the delivery statistics moving.
 */
const kube = testKube(inject("kubeconfigPath"));
const hookSecret = `whsec_${randomBytes(32).toString("base64")}`;
const waitLong = { timeout: 60_000, interval: 250 };
const managed = { "app.kubernetes.io/managed-by": "trailkeeper-api-server" };

let namespace: string;
let otherNamespace: string;
let db: TestDatabase;
let api: RunningApiServer;
let apiWithoutAccess: RunningApiServer;
let operator: RunningOperator;
let receiver: WebhookReceiver;
let writer: string;
let reader: string;
let offWriter: string;

beforeAll(async () => {
  namespace = await createTestNamespace(kube, "op-save");
  // Bound to another tenant by its label, whatever its name.
  otherNamespace = await createTestNamespace(kube, "op-save-other", { "trailkeeper.dev/tenant": "someone-else" });
  db = await freshDatabase();
  api = await startTestApi(db, { TRAILKEEPER_KUBERNETES_ACCESS: "true", KUBECONFIG: kube.kubeconfigPath });
  apiWithoutAccess = await startTestApi(db);
  writer = await tenantWithKey(api.url, namespace, ["config:read", "config:write", "events:write", "events:read"]);
  reader = (await call(api.url, "POST", `/v1/admin/tenants/${namespace}/api-keys`, { token: api.adminToken, body: { scopes: ["config:read"] } })).body.key as string;
  offWriter = (await call(apiWithoutAccess.url, "POST", `/v1/admin/tenants/${namespace}/api-keys`, { token: api.adminToken, body: { scopes: ["config:read", "config:write"] } })).body.key as string;
  receiver = await startWebhookReceiver({ secret: hookSecret });
  operator = await startTestOperator(testOperatorEnv(kube.kubeconfigPath, namespace, { DATABASE_URL: db.url, DELIVERY_STATUS_INTERVAL_SECONDS: "1" }));
});

afterAll(async () => {
  await operator?.stop();
  await receiver?.close();
  await api?.close();
  await apiWithoutAccess?.close();
  await db?.drop();
  for (const ns of [namespace, otherNamespace]) if (ns) await deleteTestNamespace(kube, ns);
});

const webhookSpec = (extra: Record<string, unknown> = {}) => ({
  webhook: { url: `${receiver.url}/ingest`, allowInsecureHttp: true, signingSecretRef: { name: "siem-hook", key: "signing-secret" } },
  delivery: { batchSize: 20 },
  ...extra,
});
const put = (path: string, body: unknown, token = writer) => call(api.url, "PUT", path, { token, body });
const secretText = async (name: string, key: string) => {
  const s = await kube.core.readNamespacedSecret({ namespace, name });
  return Buffer.from(s.data?.[key] ?? "", "base64").toString("utf8");
};
const auditActions = async () =>
  (await db.pool.query<{ action: string; details: string; outcome: string; resource_id: string }>("SELECT action, details, outcome, resource_id FROM events WHERE tenant = $1 AND action LIKE 'audit.%' ORDER BY seq", [namespace])).rows;
/** Refused writes recorded in the tenant's chain, as [action, resource, reason]. */
const refusalsOf = async (name: string) =>
  (await auditActions()).filter((a) => a.outcome === "failure" && a.resource_id === `${namespace}/${name}`).map((a) => [a.action, JSON.parse(a.details).reason]);
const batches = () => receiver.received.map((r) => r.payload as { type: string; events: { seq: number }[] }).filter((p) => p.type === "trailkeeper.audit.batch");

describe("Save through the Kubernetes API", () => {
  it("tells the console how it can save: through Kubernetes in the tenant's namespaces, else as a manifest", async () => {
    const on = await call(api.url, "GET", "/v1/config/capabilities", { token: reader });
    expect(on.status).toBe(200);
    expect(on.body).toEqual({ save: "kubernetes", namespaces: [namespace] });
    const off = await call(apiWithoutAccess.url, "GET", "/v1/config/capabilities", { token: offWriter });
    expect(off.body).toEqual({ save: "manifest", namespaces: [] });
  });

  it("creates the destination and its Secret; the operator reconciles and the list shows deliveries moving", async () => {
    const res = await put(`/v1/destinations/${namespace}/siem`, { spec: webhookSpec(), secrets: { "siem-hook": { "signing-secret": hookSecret } } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ namespace, name: "siem", created: true, generation: 1 });

    const stored = await getResource(kube, "logforwardingdestinations", namespace, "siem");
    expect(stored.spec.webhook).toMatchObject({ url: `${receiver.url}/ingest`, signingSecretRef: { name: "siem-hook", key: "signing-secret" } });
    const secret = await kube.core.readNamespacedSecret({ namespace, name: "siem-hook" });
    expect(secret.metadata?.labels).toMatchObject(managed);
    expect(await secretText("siem-hook", "signing-secret")).toBe(hookSecret);
    // The secret value went to Kubernetes only: not into the answer, the audit trail or the mirror.
    expect(JSON.stringify(res.body)).not.toContain(hookSecret);

    await vi.waitFor(async () => expect(condition(await getResource(kube, "logforwardingdestinations", namespace, "siem"), "Ready")).toMatchObject({ status: "True" }), waitLong);
    // The forwarder starts at the tenant's head when it first runs; wait for it before appending.
    await vi.waitFor(async () => expect((await db.pool.query("SELECT 1 FROM delivery_cursors WHERE resource = $1", [`${namespace}/siem`])).rowCount).toBe(1), waitLong);
    const appended = await call(api.url, "POST", "/v1/events", { token: writer, body: { events: Array.from({ length: 5 }, () => sampleEvent()) } });
    expect(appended.status).toBe(201);
    const lastSeq = (appended.body.events as { seq: number }[]).at(-1)!.seq;
    await vi.waitFor(() => expect(batches().flatMap((b) => b.events.map((e) => e.seq))).toContain(lastSeq), waitLong);
    const shown = await vi.waitFor(async () => {
      const list = await call(api.url, "GET", "/v1/destinations", { token: reader });
      const siem = (list.body.destinations as { name: string; delivery: { delivered?: number } | null; managedBy: unknown }[]).find((d) => d.name === "siem");
      expect(siem?.delivery?.delivered ?? 0).toBeGreaterThanOrEqual(5);
      return siem!;
    }, waitLong);
    expect(shown.managedBy).toBeNull();
    expect(JSON.stringify((await db.pool.query("SELECT * FROM config_mirror")).rows)).not.toContain(hookSecret);

    const created = (await auditActions()).find((a) => a.action === "audit.destination.create");
    expect(created).toBeDefined();
    expect(JSON.parse(created!.details)).toMatchObject({ namespace, name: "siem", generation: 1, secrets: ["siem-hook"] });
    expect(JSON.stringify(await auditActions())).not.toContain(hookSecret);
  }, 120_000);

  it("updates the spec and keeps an omitted Secret as it is", async () => {
    const res = await put(`/v1/destinations/${namespace}/siem`, { spec: webhookSpec({ delivery: { batchSize: 50 } }) });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ namespace, name: "siem", created: false, generation: 2 });
    expect((await getResource(kube, "logforwardingdestinations", namespace, "siem")).spec.delivery.batchSize).toBe(50);
    expect(await secretText("siem-hook", "signing-secret")).toBe(hookSecret);
    expect((await auditActions()).map((a) => a.action)).toContain("audit.destination.update");
  });

  it("toggles the destination off and on, and the mirror follows", async () => {
    const off = await call(api.url, "PATCH", `/v1/destinations/${namespace}/siem`, { token: writer, body: { enabled: false } });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ enabled: false, generation: 3 });
    expect((await getResource(kube, "logforwardingdestinations", namespace, "siem")).spec.enabled).toBe(false);
    await vi.waitFor(async () => expect((await call(api.url, "GET", `/v1/destinations/${namespace}/siem`, { token: reader })).body.enabled).toBe(false), waitLong);
    const on = await call(api.url, "PATCH", `/v1/destinations/${namespace}/siem`, { token: writer, body: { enabled: true } });
    expect(on.status).toBe(200);
    expect((await getResource(kube, "logforwardingdestinations", namespace, "siem")).spec.enabled).toBe(true);
    const actions = (await auditActions()).map((a) => a.action);
    expect(actions).toContain("audit.destination.disable");
    expect(actions).toContain("audit.destination.enable");
    await vi.waitFor(async () => expect(condition(await getResource(kube, "logforwardingdestinations", namespace, "siem"), "Ready")).toMatchObject({ status: "True" }), waitLong);
  }, 90_000);

  it("replays from a time by setting the annotation, again with the same time, and the receiver gets history again", async () => {
    const from = "2000-01-01T00:00:00Z";
    const count = () => batches().flatMap((b) => b.events.map((e) => e.seq)).filter((s) => s === 1).length;
    // Event 1 (an audit record of the set-up) came before the forwarder started: only a replay sends it.
    expect(count()).toBe(0);
    const first = await call(api.url, "POST", `/v1/destinations/${namespace}/siem/replay`, { token: writer, body: { from } });
    expect(first.status).toBe(202);
    expect((await getResource(kube, "logforwardingdestinations", namespace, "siem") as { metadata: { annotations?: Record<string, string> } }).metadata.annotations?.["trailkeeper.dev/replay-from"]).toBe(from);
    await vi.waitFor(() => expect(count()).toBe(1), waitLong);
    // The operator applies each distinct value once; the same instant is spelt anew so that it applies again.
    const before = count();
    const again = await call(api.url, "POST", `/v1/destinations/${namespace}/siem/replay`, { token: writer, body: { from } });
    expect(again.status).toBe(202);
    expect(again.body.from).not.toBe(from);
    expect(Date.parse(again.body.from)).toBe(Date.parse(from));
    await vi.waitFor(() => expect(count()).toBeGreaterThan(before), waitLong);
    expect((await auditActions()).filter((a) => a.action === "audit.destination.replay")).toHaveLength(2);
    const bad = await call(api.url, "POST", `/v1/destinations/${namespace}/siem/replay`, { token: writer, body: { from: "yesterday" } });
    expect([bad.status, bad.body.code, bad.body.errors?.[0]?.path]).toEqual([400, "invalid_request", "from"]);
  }, 120_000);

  it("creates a RecordingStorage with its key pair in one labelled Secret", async () => {
    const spec = { bucket: "recordings", endpoint: "http://127.0.0.1:9", forcePathStyle: true, allowInsecureHttp: true, credentialsSecretRef: { name: "recs-s3" } };
    const res = await put(`/v1/recording-storages/${namespace}/recs`, { spec, secrets: { "recs-s3": { AWS_ACCESS_KEY_ID: "AKIDSAVE", AWS_SECRET_ACCESS_KEY: "s3-secret-value" } } });
    expect(res.status).toBe(201);
    expect((await getResource(kube, "recordingstorages", namespace, "recs")).spec.bucket).toBe("recordings");
    expect([await secretText("recs-s3", "AWS_ACCESS_KEY_ID"), await secretText("recs-s3", "AWS_SECRET_ACCESS_KEY")]).toEqual(["AKIDSAVE", "s3-secret-value"]);
    expect((await auditActions()).map((a) => a.action)).toContain("audit.recording_storage.create");
    await vi.waitFor(async () => expect((await call(api.url, "GET", "/v1/recording-storages", { token: reader })).body.recordingStorages).toEqual([expect.objectContaining({ name: "recs", managedBy: null })]), waitLong);
  }, 90_000);

  it("shows an Argo CD-tracked resource with managedBy and refuses to change it (409 gitops_managed)", async () => {
    await putSecret(kube, namespace, "argo-hook", { "signing-secret": hookSecret });
    const body = { apiVersion: "trailkeeper.dev/v1alpha1", kind: "LogForwardingDestination", metadata: { name: "from-git", namespace, labels: { "argocd.argoproj.io/instance": "audit-config" } }, spec: { ...webhookSpec(), webhook: { url: `${receiver.url}/git`, allowInsecureHttp: true, signingSecretRef: { name: "argo-hook", key: "signing-secret" } } } };
    await kube.custom.createNamespacedCustomObject({ group: "trailkeeper.dev", version: "v1alpha1", plural: "logforwardingdestinations", namespace, body });
    const before = await getResource(kube, "logforwardingdestinations", namespace, "from-git");

    for (const [method, path, payload] of [
      ["PUT", `/v1/destinations/${namespace}/from-git`, { spec: webhookSpec() }],
      ["PATCH", `/v1/destinations/${namespace}/from-git`, { enabled: false }],
      ["POST", `/v1/destinations/${namespace}/from-git/replay`, { from: "2000-01-01T00:00:00Z" }],
    ] as const) {
      const r = await call(api.url, method, path, { token: writer, body: payload });
      expect([r.status, r.body.code], `${method} ${path}`).toEqual([409, "gitops_managed"]);
      expect(r.body.detail).toContain("label argocd.argoproj.io/instance=audit-config");
    }
    // Status writes move the resourceVersion; the spec and metadata are what must be untouched.
    const after = await getResource(kube, "logforwardingdestinations", namespace, "from-git") as typeof before & { metadata: { annotations?: Record<string, string> } };
    expect([after.metadata.generation, after.spec, after.metadata.annotations?.["trailkeeper.dev/replay-from"]]).toEqual([before.metadata.generation, before.spec, undefined]);
    const shown = await vi.waitFor(async () => {
      const r = await call(api.url, "GET", `/v1/destinations/${namespace}/from-git`, { token: reader });
      expect(r.status).toBe(200);
      return r.body;
    }, waitLong);
    expect(shown.managedBy).toEqual({ tool: "argocd", reason: "label argocd.argoproj.io/instance=audit-config" });
    expect(await refusalsOf("from-git")).toEqual([["audit.destination.update", "gitops_managed"], ["audit.destination.disable", "gitops_managed"], ["audit.destination.replay", "gitops_managed"]]);
  }, 90_000);

  it("answers 404 namespace_not_bound for another tenant's namespace and a missing one, writing nothing", async () => {
    for (const ns of [otherNamespace, `missing-${randomBytes(3).toString("hex")}`, "Not_A_Namespace"]) {
      const r = await put(`/v1/destinations/${ns}/siem`, { spec: webhookSpec(), secrets: { "siem-hook": { "signing-secret": "x" } } });
      expect([r.status, r.body.code], ns).toEqual([404, "namespace_not_bound"]);
    }
    const list = await kube.custom.listNamespacedCustomObject({ group: "trailkeeper.dev", version: "v1alpha1", plural: "logforwardingdestinations", namespace: otherNamespace });
    expect((list as { items: unknown[] }).items).toEqual([]);
    expect((await kube.core.listNamespacedSecret({ namespace: otherNamespace })).items).toEqual([]);
  });

  it("never overwrites an existing Secret it does not manage (409 secret_not_managed), and creates nothing", async () => {
    await putSecret(kube, namespace, "hand-made", { "signing-secret": "kept" });
    const r = await put(`/v1/destinations/${namespace}/hand`, { spec: { ...webhookSpec(), webhook: { url: `${receiver.url}/h`, allowInsecureHttp: true, signingSecretRef: { name: "hand-made", key: "signing-secret" } } }, secrets: { "hand-made": { "signing-secret": "overwritten" } } });
    expect([r.status, r.body.code]).toEqual([409, "secret_not_managed"]);
    expect(await secretText("hand-made", "signing-secret")).toBe("kept");
    await expect(getResource(kube, "logforwardingdestinations", namespace, "hand")).rejects.toMatchObject({ code: 404 });
    expect(await refusalsOf("hand")).toEqual([["audit.destination.create", "secret_not_managed"]]);
    // Referencing it without inline values is fine: the Secret is left as it is.
    const ok = await put(`/v1/destinations/${namespace}/hand`, { spec: { ...webhookSpec(), webhook: { url: `${receiver.url}/h`, allowInsecureHttp: true, signingSecretRef: { name: "hand-made", key: "signing-secret" } } } });
    expect(ok.status).toBe(201);
    expect(await secretText("hand-made", "signing-secret")).toBe("kept");
  });

  it("refuses a bad spec, a stray Secret and a change of destination type with 400, naming the field", async () => {
    const bad = await put(`/v1/destinations/${namespace}/bad`, { spec: { webhook: { url: "ftp://nope" } } });
    expect([bad.status, bad.body.code]).toEqual([400, "invalid_request"]);
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toContain("spec.webhook.url");
    const stray = await put(`/v1/destinations/${namespace}/bad`, { spec: webhookSpec(), secrets: { "siem-hook": { "signing-secret": "x" }, unrelated: { a: "b" } } });
    expect([stray.status, stray.body.errors]).toEqual([400, [{ path: "secrets.unrelated", message: expect.any(String) }]]);
    // The CRD's transition rule (the type cannot change) is enforced by the apiserver: its answer becomes a 400.
    const retype = await put(`/v1/destinations/${namespace}/siem`, { spec: { syslog: { host: "127.0.0.1", port: 9 } } });
    expect([retype.status, retype.body.code]).toEqual([400, "invalid_request"]);
    expect(retype.body.detail).toContain("the destination type cannot change");
    await expect(getResource(kube, "logforwardingdestinations", namespace, "bad")).rejects.toMatchObject({ code: 404 });
  });

  it("needs config:write, and answers 409 kubernetes_access_disabled when the server has no Kubernetes access", async () => {
    const r = await put(`/v1/destinations/${namespace}/siem`, { spec: webhookSpec() }, reader);
    expect([r.status, r.body.code]).toEqual([403, "missing_scope"]);
    for (const [method, path, body] of [
      ["PUT", `/v1/destinations/${namespace}/siem`, { spec: webhookSpec() }],
      ["PUT", `/v1/recording-storages/${namespace}/recs`, { spec: {} }],
      ["PATCH", `/v1/destinations/${namespace}/siem`, { enabled: false }],
      ["POST", `/v1/destinations/${namespace}/siem/replay`, { from: "2000-01-01T00:00:00Z" }],
    ] as const) {
      const off = await call(apiWithoutAccess.url, method, path, { token: offWriter, body });
      expect([off.status, off.body.code], `${method} ${path}`).toEqual([409, "kubernetes_access_disabled"]);
      expect(off.headers.get("content-type")).toContain("application/problem+json");
    }
    expect((await getResource(kube, "logforwardingdestinations", namespace, "siem")).spec.enabled).toBe(true);
  });

  it("toggles and saves while the object keeps moving under it (status, annotations): no spurious 409", async () => {
    // Another writer bumps the resourceVersion every 25 ms, far more often than the operator's status writes do.
    let ticking = true;
    const ticks = (async () => {
      for (let i = 0; ticking; i++) {
        await new Promise((r) => setTimeout(r, 25));
        await kube.custom.patchNamespacedCustomObject({ group: "trailkeeper.dev", version: "v1alpha1", plural: "logforwardingdestinations", namespace, name: "siem", body: { metadata: { annotations: { "test.trailkeeper.dev/tick": String(i) } } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
      }
    })();
    try {
      for (const enabled of [false, true, false, true, false, true, false, true, false, true]) {
        const r = await call(api.url, "PATCH", `/v1/destinations/${namespace}/siem`, { token: writer, body: { enabled } });
        expect([r.status, r.body.code]).toEqual([200, undefined]);
        expect((await getResource(kube, "logforwardingdestinations", namespace, "siem")).spec.enabled).toBe(enabled);
      }
    } finally {
      ticking = false;
      await ticks;
    }
    expect(await refusalsOf("siem")).toEqual([]);
  }, 90_000);

  it("refuses to overwrite a resource that changed since it was read (409 conflict), keeping the other change", async () => {
    const cluster = createConfigCluster(kube.kubeconfigPath);
    const read = await cluster.readResource("logforwardingdestinations", namespace, "siem");
    // Someone else edits the spec between this save's read and its write.
    await kube.custom.patchNamespacedCustomObject({ group: "trailkeeper.dev", version: "v1alpha1", plural: "logforwardingdestinations", namespace, name: "siem", body: { spec: { delivery: { batchSize: 77 } } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
    const write = writeResource(cluster, "LogForwardingDestination", namespace, "siem", webhookSpec(), read);
    await expect(write).rejects.toMatchObject({ status: 409, code: "conflict" });
    expect((await getResource(kube, "logforwardingdestinations", namespace, "siem")).spec.delivery.batchSize).toBe(77);
  });

  it("answers 404 for toggling or replaying a destination that does not exist", async () => {
    const r = await call(api.url, "PATCH", `/v1/destinations/${namespace}/nope`, { token: writer, body: { enabled: false } });
    expect([r.status, r.body.code]).toEqual([404, "unknown_destination"]);
  });
});
