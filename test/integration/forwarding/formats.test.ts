import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StoredEvent } from "../../../core/src/events/model.ts";
import { parseCef } from "../../../core/src/formats/testdata/line-parsers.ts";
import { ocsfProblems } from "../../../core/src/formats/testdata/ocsf-fixture.ts";
import { startDatadogServer, type DatadogServer } from "../../protocol-servers/datadog-server.ts";
import { encodeApiKey, startElasticsearchServer, type ElasticsearchServer } from "../../protocol-servers/elasticsearch-server.ts";
import { startSplunkHecServer, type SplunkHecServer } from "../../protocol-servers/splunk-hec-server.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../../protocol-servers/webhook-receiver.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { webhookSecret } from "../destinations/check-helpers.ts";
import { expectVerifiableChain, range, seqs, startForwarding, until } from "./harness.ts";

/**
 * spec.format end to end (issue #13): each kind's non-default formats reach its protocol server in that format,
 * every OCSF object validates against the official 1.3.0 class schema, the stored event survives (OCSF raw_data,
 * CEF fields) so the chain can still be checked, and replay and dead letters behave as in the native format.
 */
type Ocsf = Record<string, unknown> & { metadata: { sequence: number }; raw_data: string };
const rawOf = (ocsf: Ocsf) => JSON.parse(ocsf.raw_data) as StoredEvent;

function expectOcsfOf(objects: Ocsf[], stored: StoredEvent[]) {
  expect(objects.map((o) => o.metadata.sequence)).toEqual(seqs(stored));
  for (const o of objects) expect(ocsfProblems(o), `seq ${o.metadata.sequence}`).toEqual([]);
  expect(objects.map(rawOf)).toEqual(stored);
  expectVerifiableChain(objects.map(rawOf));
}

describe("destination formats", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
  });
  afterAll(() => db?.drop());

  describe("webhook", () => {
    let receiver: WebhookReceiver;
    const secrets = { wh: { secret: webhookSecret } };
    beforeAll(async () => {
      receiver = await startWebhookReceiver({ secret: webhookSecret });
    });
    afterAll(() => receiver?.close());

    it("ocsf: signed batches of OCSF events, and a replay sends the same events again", async () => {
      const run = await startForwarding(db, { webhook: { url: `${receiver.url}/hooks`, signingSecretRef: { name: "wh", key: "secret" }, allowInsecureHttp: true }, format: "ocsf", delivery: { batchSize: 40, maxBackoff: "1s" } }, secrets);
      await run.append(100);
      const batches = () => receiver.received.map((d) => d.payload as { type: string; format: string; ocsfVersion: string; events: Ocsf[] });
      await until(() => batches().flatMap((b) => b.events).length >= 100);
      expect(receiver.rejected).toEqual([]);
      for (const b of batches()) expect(b).toMatchObject({ type: "trailkeeper.audit.batch", format: "ocsf", ocsfVersion: "1.3.0" });
      const stored = await run.stored();
      expectOcsfOf(batches().flatMap((b) => b.events), stored);
      await run.restart(60);
      await until(() => batches().flatMap((b) => b.events).length >= 140);
      expect(batches().flatMap((b) => b.events).slice(100).map((o) => o.metadata.sequence)).toEqual(range(61, 100));
      await run.stop();
    });
  });

  describe("Splunk HEC", () => {
    const token = "11111111-2222-3333-4444-555555555555";
    const secrets = { hec: { token } };
    let hec: SplunkHecServer;
    beforeAll(async () => {
      hec = await startSplunkHecServer({ tokens: { [token]: {} } });
    });
    afterAll(() => hec?.close());
    const spec = (format: "cef" | "ocsf") => ({ splunkHec: { url: hec.url, tokenSecretRef: { name: "hec", key: "token" }, allowInsecureHttp: true, sourcetype: format === "cef" ? "cef" : "ocsf" }, format, timeout: "1s", delivery: { batchSize: 10, maxBackoff: "1s" } });

    it("cef: the event is a CEF string that parses back, and an invalid one is dead-lettered alone", async () => {
      hec.events.length = 0;
      hec.rejectEnvelope = (envelope) => (parseCef(envelope.event as string).fields.get("cn1") === "7" ? 6 : undefined);
      const run = await startForwarding(db, spec("cef"), secrets);
      await run.append(20);
      await until(async () => (await run.cursor()).cursorSeq === 20);
      hec.rejectEnvelope = undefined;
      const stored = await run.stored();
      const parsed = hec.events.map((e) => parseCef(e.envelope.event as string));
      expect(parsed.map((p) => Number(p.fields.get("cn1")))).toEqual([...range(1, 6), ...range(8, 20)]);
      for (const p of parsed) {
        const event = stored[Number(p.fields.get("cn1")) - 1]!;
        expect(Object.fromEntries(p.fields)).toMatchObject({ externalId: event.id, act: event.action, suid: event.actor.id, cs1: event.tenant, cs2: event.hash, cs3: event.prevHash });
      }
      expect(hec.events.every((e) => e.envelope.sourcetype === "cef")).toBe(true);
      expect(await run.deadLetters()).toEqual([{ seq: 7, reason: "Splunk HEC rejected the event: HEC code 6 (Invalid data format)" }]);
      await run.stop();
    });

    it("ocsf: the event is an OCSF object", async () => {
      hec.events.length = 0;
      const run = await startForwarding(db, spec("ocsf"), secrets);
      await run.append(25);
      await until(() => hec.events.length >= 25);
      expectOcsfOf(hec.events.map((e) => e.envelope.event as Ocsf), await run.stored());
      await run.stop();
    });
  });

  it("Datadog ocsf: Datadog's attributes plus the OCSF event under `ocsf`", async () => {
    const apiKey = "0123456789abcdef0123456789abcdef";
    const dd: DatadogServer = await startDatadogServer({ apiKeys: [apiKey] });
    const run = await startForwarding(db, { datadog: { apiKeySecretRef: { name: "dd", key: "api-key" }, endpoint: dd.url, allowInsecureHttp: true }, format: "ocsf", delivery: { maxBackoff: "1s" } }, { dd: { "api-key": apiKey } });
    await run.append(30);
    await until(() => dd.logs.length >= 30);
    const stored = await run.stored();
    expectOcsfOf(dd.logs.map((l) => l.log.ocsf as Ocsf), stored);
    for (const [i, { log }] of dd.logs.entries()) expect(log).toMatchObject({ ddsource: "trailkeeper", ddtags: `tenant:${run.tenant}`, date: stored[i]!.occurredAt });
    expect(dd.logs.every(({ log }) => log.trailkeeper === undefined && log.evt === undefined)).toBe(true);
    expect((JSON.parse(gunzipSync(dd.requests.find((r) => r.path === "/api/v2/logs")!.rawBody).toString()) as unknown[]).length).toBe(30);
    await run.stop();
    await dd.close();
  });

  it("Elasticsearch ocsf: one OCSF document per event with @timestamp and _id = event id", async () => {
    const apiKey = encodeApiKey("key-1", "secret-1");
    const es: ElasticsearchServer = await startElasticsearchServer();
    es.apiKeys.set(apiKey, { username: "forwarder", authenticationType: "api_key", indices: [{ names: ["ocsf-*"], privileges: ["create_doc", "auto_configure"] }] });
    const run = await startForwarding(db, { elasticsearch: { url: es.url, apiKeySecretRef: { name: "es", key: "api-key" }, allowInsecureHttp: true, index: "ocsf-audit" }, format: "ocsf", delivery: { maxBackoff: "1s" } }, { es: { "api-key": apiKey } });
    await run.append(30);
    await until(() => (es.documents.get("ocsf-audit")?.length ?? 0) >= 30);
    const stored = await run.stored();
    const docs = es.documents.get("ocsf-audit")!;
    expect(docs.map((d) => d._id)).toEqual(stored.map((e) => e.id));
    expect(docs.map((d) => d._source["@timestamp"])).toEqual(stored.map((e) => e.occurredAt));
    expectOcsfOf(docs.map((d) => { const { "@timestamp": _ts, ...ocsf } = d._source; return ocsf as Ocsf; }), stored);
    await run.stop();
    await es.close();
  });
});
