import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import type { RunningApiServer } from "../../../api-server/src/server.ts";
import type { RunningOperator } from "../../../operator/src/operator.ts";
import { startDatadogServer, type DatadogServer } from "../../protocol-servers/datadog-server.ts";
import { encodeApiKey, startElasticsearchServer, type ElasticsearchServer } from "../../protocol-servers/elasticsearch-server.ts";
import { startSplunkHecServer, type SplunkHecServer } from "../../protocol-servers/splunk-hec-server.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../../protocol-servers/webhook-receiver.ts";
import { call, sampleEvent, startTestApi, tenantWithKey } from "../../support/api.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { condition, createResource, createTestNamespace, deleteTestNamespace, getResource, putSecret, testKube } from "../../support/kube-client.ts";
import { startTestOperator, testOperatorEnv } from "../../support/kube-operator.ts";
import { startRsyslog, type RunningRsyslog } from "../../support/rsyslog.ts";

const kube = testKube(inject("kubeconfigPath"));
const webhookSecret = `whsec_${randomBytes(32).toString("base64")}`;
const hecToken = "11111111-2222-3333-4444-555555555555";
const ddKey = "0123456789abcdef0123456789abcdef";
const esKey = encodeApiKey("key-1", "secret-1");

let namespace: string;
let db: TestDatabase;
let api: RunningApiServer;
let operator: RunningOperator;
let key: string;
let webhook: WebhookReceiver;
let hec: SplunkHecServer;
let dd: DatadogServer;
let es: ElasticsearchServer;
let rsyslog: RunningRsyslog;

beforeAll(async () => {
  namespace = await createTestNamespace(kube, "op-all");
  db = await freshDatabase();
  api = await startTestApi(db);
  key = await tenantWithKey(api.url, namespace, ["events:write"]);
  webhook = await startWebhookReceiver({ secret: webhookSecret });
  hec = await startSplunkHecServer({ tokens: { [hecToken]: {} } });
  dd = await startDatadogServer({ apiKeys: [ddKey] });
  es = await startElasticsearchServer();
  es.apiKeys.set(esKey, { username: "forwarder", authenticationType: "api_key", indices: [{ names: ["trailkeeper-*"], privileges: ["create_doc", "auto_configure"] }] });
  rsyslog = await startRsyslog();
  await putSecret(kube, namespace, "creds", { webhook: webhookSecret, hec: hecToken, dd: ddKey, es: esKey });
  operator = await startTestOperator(testOperatorEnv(kube.kubeconfigPath, namespace, { DATABASE_URL: db.url, DELIVERY_STATUS_INTERVAL_SECONDS: "1" }));
});

afterAll(async () => {
  await operator?.stop();
  await Promise.all([webhook?.close(), hec?.close(), dd?.close(), es?.close(), rsyslog?.stop()]);
  await api?.close();
  await db?.drop();
  if (namespace) await deleteTestNamespace(kube, namespace);
});

const ref = (k: string) => ({ name: "creds", key: k });
const specs: Record<string, () => unknown> = {
  webhook: () => ({ webhook: { url: `${webhook.url}/audit`, allowInsecureHttp: true, signingSecretRef: ref("webhook") } }),
  "splunk-hec": () => ({ splunkHec: { url: hec.url, tokenSecretRef: ref("hec"), allowInsecureHttp: true } }),
  datadog: () => ({ datadog: { endpoint: dd.url, apiKeySecretRef: ref("dd"), allowInsecureHttp: true } }),
  elasticsearch: () => ({ elasticsearch: { url: es.url, apiKeySecretRef: ref("es"), allowInsecureHttp: true, index: "trailkeeper-audit" } }),
  syslog: () => ({ syslog: { host: "127.0.0.1", port: rsyslog.tcpPort, transport: "tcp" } }),
};

/** The seqs of the events each receiver got, as it reports them (checkpoint records, docs/integrity.md §7, left out). */
const received: Record<string, () => number[]> = {
  webhook: () => webhook.received.flatMap((r) => (r.payload as { type: string; events?: { seq: number }[] }).events?.map((e) => e.seq) ?? []),
  "splunk-hec": () => hec.events.filter((e) => e.envelope.sourcetype !== "trailkeeper:checkpoint").map((e) => (e.envelope.event as { seq: number }).seq),
  datadog: () => dd.logs.filter((l) => (l.log.evt as { name: string }).name !== "trailkeeper.checkpoint").map((l) => (l.log.trailkeeper as { seq: number }).seq),
  elasticsearch: () => (es.documents.get("trailkeeper-audit") ?? []).filter((d) => (d._source.event as { kind: string }).kind === "event").map((d) => (d._source.trailkeeper as { seq: number }).seq),
  syslog: () => rsyslog.parsedMessages().filter((m) => m.msgId !== "checkpoint").map((m) => Number(Object.values(m.sd)[0]?.seq)),
};

describe("the operator against every destination type", () => {
  it("tests each one to Ready=True and forwards events appended through the API to all of them", async () => {
    for (const [name, spec] of Object.entries(specs)) await createResource(kube, "logforwardingdestinations", namespace, name, spec());
    for (const name of Object.keys(specs)) {
      await vi.waitFor(async () => {
        const r = await getResource(kube, "logforwardingdestinations", namespace, name);
        expect(condition(r, "Ready")?.status, `${name}: ${condition(r, "Ready")?.message}`).toBe("True");
        expect(r.status.lastCheck?.success).toBe(true);
        expect(r.status.observedGeneration).toBe(r.metadata.generation);
      }, { timeout: 20_000 });
    }
    // Forwarders start at the head once they run: wait until every one has a cursor.
    await vi.waitFor(async () => expect(Number((await db.pool.query("SELECT count(*) AS n FROM delivery_cursors")).rows[0].n)).toBe(5), { timeout: 20_000 });
    const res = await call(api.url, "POST", "/v1/events", { token: key, body: { events: Array.from({ length: 40 }, () => sampleEvent()) } });
    expect(res.status).toBe(201);
    const seqs = (res.body.events as { seq: number }[]).map((e) => e.seq);
    for (const name of Object.keys(specs)) {
      await vi.waitFor(() => expect(received[name]!(), name).toEqual(seqs), { timeout: 20_000 });
      await vi.waitFor(async () => {
        const r = await getResource(kube, "logforwardingdestinations", namespace, name);
        expect(r.status.delivery?.delivered, name).toBe(40);
      }, { timeout: 10_000 });
    }
  });
});
