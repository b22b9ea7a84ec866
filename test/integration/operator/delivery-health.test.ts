import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import type { RunningApiServer } from "../../../api-server/src/server.ts";
import type { RunningOperator } from "../../../operator/src/operator.ts";
import { rejectedRunThreshold } from "../../../operator/src/forwarding/delivery-health.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../../protocol-servers/webhook-receiver.ts";
import { call, sampleEvent, startTestApi, tenantWithKey } from "../../support/api.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { condition, createResource, createTestNamespace, deleteTestNamespace, getResource, putSecret, testKube } from "../../support/kube-client.ts";
import { kubectlOk } from "../../support/kube-e2e.ts";
import { startTestOperator, testOperatorEnv } from "../../support/kube-operator.ts";

const kube = testKube(inject("kubeconfigPath"));
const secret = `whsec_${randomBytes(32).toString("base64")}`;
const waitLong = { timeout: 60_000, interval: 250 };

let namespace: string;
let db: TestDatabase;
let api: RunningApiServer;
let operator: RunningOperator;
let key: string;
let webhook: WebhookReceiver;

/** A receiver that passes the connectivity check (its test event) but refuses every batch of real events. */
const rejectBatches = (d: { payload: unknown }) => ((d.payload as { events?: unknown[] }).events ? { status: 400, body: { error: "field actor.email is required" } } : { status: 204 });

beforeAll(async () => {
  namespace = await createTestNamespace(kube, "op-health");
  db = await freshDatabase();
  api = await startTestApi(db);
  key = await tenantWithKey(api.url, namespace, ["events:write"]);
  webhook = await startWebhookReceiver({ secret });
  webhook.respondWith = rejectBatches;
  await putSecret(kube, namespace, "hook", { secret });
  operator = await startTestOperator(testOperatorEnv(kube.kubeconfigPath, namespace, { DATABASE_URL: db.url, DELIVERY_STATUS_INTERVAL_SECONDS: "1" }));
});

afterAll(async () => {
  await operator?.stop();
  await webhook?.close();
  await api?.close();
  await db?.drop();
  if (namespace) await deleteTestNamespace(kube, namespace);
});

async function append(n: number): Promise<void> {
  const res = await call(api.url, "POST", "/v1/events", { token: key, body: { events: Array.from({ length: n }, () => sampleEvent()) } });
  expect(res.status).toBe(201);
}

describe("delivery health of a destination that refuses every batch", () => {
  it("keeps Ready=True (it connects) but turns Delivering=False, names the dead letter's reason, and shows it in kubectl get", async () => {
    await createResource(kube, "logforwardingdestinations", namespace, "refusing", { webhook: { url: `${webhook.url}/audit`, allowInsecureHttp: true, signingSecretRef: { name: "hook", key: "secret" } } });
    await vi.waitFor(async () => {
      const r = await getResource(kube, "logforwardingdestinations", namespace, "refusing");
      expect(condition(r, "Ready")?.status).toBe("True");
      expect(condition(r, "Delivering")?.status).toBe("True");
    }, waitLong);

    await append(rejectedRunThreshold + 1);
    const refused = await vi.waitFor(async () => {
      const r = await getResource(kube, "logforwardingdestinations", namespace, "refusing");
      expect(condition(r, "Delivering")).toMatchObject({ status: "False", reason: "EventsRejected" });
      expect(r.status.delivery?.deadLettered).toBe(rejectedRunThreshold + 1);
      return r;
    }, waitLong);
    expect(condition(refused, "Ready")?.status).toBe("True");

    // lastError names the latest dead letter and its reason, as stored in the dead-letter table.
    const latest = (await db.pool.query<{ seq: string; reason: string }>("SELECT seq, reason FROM dead_letters ORDER BY id DESC LIMIT 1")).rows[0]!;
    const lastError = refused.status.delivery?.lastError as string;
    expect(lastError).toBe(`dead-lettered seq ${latest.seq}: ${latest.reason}`.slice(0, 1024));
    expect(latest.reason).toMatch(/400/);
    expect(condition(refused, "Delivering")?.message).toContain(latest.reason.slice(0, 40));

    const table = kubectlOk(kube.kubeconfigPath, ["get", "lfd", "-n", namespace]);
    const [header, row] = table.trim().split("\n");
    expect(header!.split(/\s{2,}/)).toEqual(["NAME", "TYPE", "FORMAT", "ENABLED", "READY", "DELIVERED", "FAILED", "DEAD-LETTERED", "LAG", "LAST DELIVERY", "AGE"]);
    // FORMAT reads status.format, written by the controller once destinations take a format (issue #13).
    expect(row).toMatch(new RegExp(`^refusing\\s+webhook\\s+(native\\s+)?true\\s+True\\s+0\\s+0\\s+${rejectedRunThreshold + 1}\\s+0\\s+`));
    const wide = kubectlOk(kube.kubeconfigPath, ["get", "lfd", "-n", namespace, "-o", "wide"]);
    expect(wide.split("\n")[0]!.split(/\s{2,}/).slice(11)).toEqual(["REASON", "MESSAGE", "DELIVERING", "DELIVERY REASON", "LAST ERROR"]);
    expect(wide).toMatch(/\sFalse\s+EventsRejected\s+dead-lettered seq \d+/);
  }, 120_000);

  it("turns Delivering=True again once the receiver accepts events", async () => {
    webhook.respondWith = () => ({ status: 204 });
    await append(1);
    await vi.waitFor(async () => {
      const r = await getResource(kube, "logforwardingdestinations", namespace, "refusing");
      expect(condition(r, "Delivering")).toMatchObject({ status: "True", reason: "Delivering" });
      expect(r.status.delivery?.delivered).toBe(1);
    }, waitLong);
  }, 90_000);
});

describe("readiness and the leader Lease", () => {
  it("is not ready, and says why, while its Lease namespace does not exist", async () => {
    const missing = `${namespace}-missing`;
    const lonely = await startTestOperator(testOperatorEnv(kube.kubeconfigPath, namespace, { POD_NAMESPACE: missing, POD_NAME: "lonely" }));
    try {
      const body = await vi.waitFor(async () => {
        const res = await fetch(`http://127.0.0.1:${lonely.healthPort}/readyz`);
        const text = await res.text();
        expect(res.status, text).toBe(503);
        expect(text).toContain(`cannot take or renew the Lease ${missing}/trailkeeper-operator`);
        return text;
      }, waitLong);
      expect(body).toMatch(/not found/i);
      expect(lonely.leader.isLeader).toBe(false);
      expect(lonely.ready()).toBe(false);
    } finally {
      await lonely.stop();
    }
  }, 90_000);
});
