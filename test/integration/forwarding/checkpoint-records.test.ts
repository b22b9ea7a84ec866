import { generateKeyPairSync, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { logForwardingDestinationSpecSchema, type LogForwardingDestinationSpecInput } from "../../../core/src/crd/log-forwarding-destination.ts";
import { signDueCheckpoints } from "../../../core/src/db/checkpoints.ts";
import { createTenant } from "../../../core/src/db/event-store.ts";
import { inTransaction } from "../../../core/src/db/pool.ts";
import { createSender } from "../../../core/src/destinations/registry.ts";
import { trailkeeperSdId } from "../../../core/src/destinations/syslog/rfc5424.ts";
import { forwardCheckpoints } from "../../../core/src/forwarding/checkpoint-forwarding.ts";
import { openCheckpoint } from "../../../core/src/integrity/checkpoint-note.ts";
import { parseVerifierKey, signerFromPrivateKey } from "../../../core/src/integrity/signing-key.ts";
import { secretSourceFrom } from "../../../core/src/secrets.ts";
import { startDatadogServer, type DatadogServer } from "../../protocol-servers/datadog-server.ts";
import { encodeApiKey, startElasticsearchServer, type ElasticsearchServer } from "../../protocol-servers/elasticsearch-server.ts";
import { testPki } from "../../protocol-servers/pki.ts";
import { startSplunkHecServer, type SplunkHecServer } from "../../protocol-servers/splunk-hec-server.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../../protocol-servers/webhook-receiver.ts";
import { bulkAppend } from "../../support/bulk.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { startRsyslog, type RunningRsyslog } from "../../support/rsyslog.ts";
import { testEgress, webhookSecret, type Secrets } from "../destinations/check-helpers.ts";

const logName = "trailkeeper.dev/audit";
const signer = signerFromPrivateKey(logName, generateKeyPairSync("ed25519").privateKey);
const verifier = parseVerifierKey(signer.vkey);
const hecToken = "11111111-2222-3333-4444-555555555555";
const ddKey = "0123456789abcdef0123456789abcdef";
const esKey = encodeApiKey("key-1", "secret-1");
const secrets: Secrets = { wh: { secret: webhookSecret }, hec: { token: hecToken }, dd: { "api-key": ddKey }, es: { "api-key": esKey } };

interface Record { tenant: string; seq: number; hash: string; root?: string; time: string; note: string }

let db: TestDatabase;
let receiver: WebhookReceiver;
let hec: SplunkHecServer;
let dd: DatadogServer;
let es: ElasticsearchServer;
let rsyslog: RunningRsyslog;
let tenantNo = 0;

beforeAll(async () => {
  db = await freshDatabase();
  const pki = testPki();
  [receiver, hec, dd, es, rsyslog] = await Promise.all([
    startWebhookReceiver({ secret: webhookSecret }),
    startSplunkHecServer({ tokens: { [hecToken]: {} } }),
    startDatadogServer({ apiKeys: [ddKey] }),
    startElasticsearchServer(),
    startRsyslog({ tls: { caPath: pki.ca.cert.path, certPath: pki.server.cert.path, keyPath: pki.server.key.path }, udp: true }),
  ]);
  es.apiKeys.set(esKey, { username: "forwarder", authenticationType: "api_key", indices: [{ names: ["trailkeeper-*"], privileges: ["create_doc", "auto_configure"] }] });
}, 60_000);
afterAll(async () => {
  await Promise.all([receiver?.close(), hec?.close(), dd?.close(), es?.close(), rsyslog?.stop()]);
  await db?.drop();
});

/** A tenant with `rounds` signed checkpoints, and its checkpoint notes oldest first. */
async function tenantWithCheckpoints(rounds: number): Promise<string> {
  const tenant = `cprec${++tenantNo}`;
  await inTransaction(db.pool, (c) => createTenant(c, tenant));
  for (let i = 0; i < rounds; i++) {
    await bulkAppend(db.pool, tenant, 3 + i);
    await signDueCheckpoints(db.pool, signer, logName, { everyEvents: 1, everySeconds: 1 }, true);
  }
  return tenant;
}

const storedNotes = async (tenant: string) => (await db.pool.query<{ seq: string; note: string }>("SELECT seq, note FROM checkpoints WHERE tenant = $1 ORDER BY seq", [tenant])).rows;

/** Sends the tenant's pending checkpoints through a sender built as the operator builds it. */
async function forward(tenant: string, spec: LogForwardingDestinationSpecInput, uid = randomUUID()): Promise<number> {
  const sender = createSender(logForwardingDestinationSpecSchema.parse(spec), { secrets: secretSourceFrom(secrets), egress: testEgress, destinationUid: uid, hostname: "trailkeeper-test" });
  try {
    return await forwardCheckpoints(db.pool, { sender, target: `lfd:${uid}`, resource: `ns/${tenant}`, tenant }, AbortSignal.timeout(10_000));
  } finally {
    await sender.close();
  }
}

/** Each record carries a signed note that opens with the log's key and describes the record itself. */
function expectSigned(records: Record[], notes: { seq: string; note: string }[]): void {
  expect(records.map((r) => r.note)).toEqual(notes.map((n) => n.note));
  for (const r of records) expect(openCheckpoint(r.note, verifier)).toMatchObject({ tenant: r.tenant, seq: r.seq, hash: r.hash, root: r.root, time: r.time });
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 50));
  expect(cond()).toBe(true);
};

describe("checkpoints forwarded as a record type of their own", () => {
  it("webhook: a signed delivery of type trailkeeper.checkpoint; a new destination starts at the latest, then sends each new one once", async () => {
    const tenant = await tenantWithCheckpoints(3);
    const spec = { webhook: { url: `${receiver.url}/hooks`, signingSecretRef: { name: "wh", key: "secret" }, allowInsecureHttp: true } };
    const uid = randomUUID();
    expect(await forward(tenant, spec, uid)).toBe(1);
    await bulkAppend(db.pool, tenant, 2);
    await signDueCheckpoints(db.pool, signer, logName, { everyEvents: 1, everySeconds: 1 }, true);
    expect(await forward(tenant, spec, uid)).toBe(1);
    expect(await forward(tenant, spec, uid)).toBe(0);
    const mine = receiver.received.map((d) => d.payload as { type: string; checkpoint: Record }).filter((p) => p.checkpoint?.tenant === tenant);
    expect(mine.map((p) => p.type)).toEqual(["trailkeeper.checkpoint", "trailkeeper.checkpoint"]);
    expectSigned(mine.map((p) => p.checkpoint), (await storedNotes(tenant)).slice(2));
    expect(receiver.rejected).toEqual([]);
  });

  it("Splunk HEC: sourcetype trailkeeper:checkpoint with the record as event and the signing time", async () => {
    const tenant = await tenantWithCheckpoints(1);
    await forward(tenant, { splunkHec: { url: hec.url, tokenSecretRef: { name: "hec", key: "token" }, allowInsecureHttp: true, sourcetype: "trailkeeper:audit" } });
    const mine = hec.events.filter((e) => (e.envelope.event as Record).tenant === tenant);
    expect(mine.map((e) => e.envelope.sourcetype)).toEqual(["trailkeeper:checkpoint"]);
    const record = mine[0]!.envelope.event as Record;
    expect(mine[0]!.envelope.time).toBe(Date.parse(record.time) / 1000);
    expectSigned([record], await storedNotes(tenant));
  });

  it("Datadog: evt.name trailkeeper.checkpoint and the record under trailkeeper.checkpoint", async () => {
    const tenant = await tenantWithCheckpoints(1);
    await forward(tenant, { datadog: { apiKeySecretRef: { name: "dd", key: "api-key" }, endpoint: dd.url, allowInsecureHttp: true, service: "audit-svc" } });
    const mine = dd.logs.map((l) => l.log as { evt: { name: string }; ddtags: string; trailkeeper: { checkpoint: Record } }).filter((l) => l.trailkeeper.checkpoint?.tenant === tenant);
    expect(mine.map((l) => l.evt.name)).toEqual(["trailkeeper.checkpoint"]);
    expect(mine[0]!.ddtags).toContain(`tenant:${tenant}`);
    expectSigned([mine[0]!.trailkeeper.checkpoint], await storedNotes(tenant));
  });

  it("Elasticsearch: event.kind state, event.dataset trailkeeper.checkpoint, one document per checkpoint even when resent", async () => {
    const tenant = await tenantWithCheckpoints(1);
    const spec = { elasticsearch: { url: es.url, apiKeySecretRef: { name: "es", key: "api-key" }, allowInsecureHttp: true, index: "trailkeeper-audit" } };
    const uid = randomUUID();
    await forward(tenant, spec, uid);
    // A lost cursor resends: the document id makes it a 409, taken as delivered, not a second document.
    await db.pool.query("DELETE FROM checkpoint_publications WHERE target = $1", [`lfd:${uid}`]);
    expect(await forward(tenant, spec, uid)).toBe(1);
    const docs = (es.documents.get("trailkeeper-audit") ?? []).filter((d) => (d._source.trailkeeper as { checkpoint?: Record }).checkpoint?.tenant === tenant);
    expect(docs.map((d) => [d._id, (d._source.event as { kind: string; dataset: string })])).toEqual([[`checkpoint-${tenant}-${(await storedNotes(tenant))[0]!.seq}`, { kind: "state", dataset: "trailkeeper.checkpoint", module: "trailkeeper" }]]);
    expectSigned([(docs[0]!._source.trailkeeper as { checkpoint: Record }).checkpoint], await storedNotes(tenant));
  });

  it.each(["tcp", "udp"] as const)("syslog over %s: MSGID checkpoint, structured data, the record as MSG, parsed by rsyslog", async (transport) => {
    const tenant = await tenantWithCheckpoints(1);
    await forward(tenant, { syslog: { host: "127.0.0.1", port: transport === "udp" ? rsyslog.udpPort! : rsyslog.tcpPort, transport } });
    const mine = () => rsyslog.parsedMessages().filter((m) => m.sd[trailkeeperSdId]?.tenant === tenant);
    await until(() => mine().length === 1);
    const [m] = mine();
    expect(m!.msgId).toBe("checkpoint");
    expect(m!.protocolVersion).toBe("1");
    const record = JSON.parse(m!.msg.replace(/^\uFEFF/, "")) as Record;
    expect(m!.sd[trailkeeperSdId]).toEqual({ tenant, seq: String(record.seq), hash: record.hash, root: record.root });
    expectSigned([record], await storedNotes(tenant));
  });

  it("keeps the cursor when the destination refuses, and resumes there", async () => {
    const tenant = await tenantWithCheckpoints(1);
    const uid = randomUUID();
    const spec = { webhook: { url: `${receiver.url}/hooks`, signingSecretRef: { name: "wh", key: "secret" }, allowInsecureHttp: true } };
    receiver.respondWith = () => ({ status: 503 });
    await expect(forward(tenant, spec, uid)).rejects.toThrow();
    receiver.respondWith = () => ({ status: 204 });
    expect((await db.pool.query("SELECT 1 FROM checkpoint_publications WHERE target = $1", [`lfd:${uid}`])).rowCount).toBe(0);
    expect(await forward(tenant, spec, uid)).toBe(1);
  });
});
