import { createHmac } from "node:crypto";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDatadogServer, type DatadogServer } from "../../protocol-servers/datadog-server.ts";
import { encodeApiKey, startElasticsearchServer, type ElasticsearchServer } from "../../protocol-servers/elasticsearch-server.ts";
import { startSplunkHecServer, type SplunkHecServer } from "../../protocol-servers/splunk-hec-server.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../../protocol-servers/webhook-receiver.ts";
import { webhookSecret } from "./check-helpers.ts";

/** The servers' own behaviour, checked against protocols.md, so the forwarding tests can trust them. */
async function call(url: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: text === "" ? undefined : JSON.parse(text) };
}

describe("Splunk HEC server", () => {
  let hec: SplunkHecServer;
  const token = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
  beforeAll(async () => {
    hec = await startSplunkHecServer({ tokens: { [token]: { indexes: ["audit"] }, "ack-token": { useAck: true } } });
  });
  afterAll(() => hec.close());
  const post = (body: string, headers: Record<string, string> = { authorization: `Splunk ${token}` }) => call(`${hec.url}/services/collector/event`, { method: "POST", headers, body });

  it("answers health with code 17 for anyone", async () => {
    expect(await call(`${hec.url}/services/collector/health`)).toEqual({ status: 200, body: { text: "HEC is healthy", code: 17 } });
  });

  it("distinguishes missing, malformed, unknown and valid tokens", async () => {
    expect(await post("", {})).toEqual({ status: 401, body: { text: "Token is required", code: 2 } });
    expect(await post("", { authorization: token })).toEqual({ status: 401, body: { text: "Invalid authorization", code: 3 } });
    expect(await post("", { authorization: "Splunk nope" })).toEqual({ status: 403, body: { text: "Invalid token", code: 4 } });
    expect(await post("", { authorization: `Basic ${Buffer.from(`x:${token}`).toString("base64")}` })).toEqual({ status: 400, body: { text: "No data", code: 5 } });
  });

  it("keeps the events before an invalid one and reports its number", async () => {
    const before = hec.events.length;
    const batch = '{"event":{"a":1},"index":"audit"}\n{"event":"two"}{"event":""}{"event":"four"}';
    expect(await post(batch)).toEqual({ status: 400, body: { text: "Event field cannot be blank", code: 13, "invalid-event-number": 2 } });
    expect(hec.events.slice(before).map((e) => e.envelope.event)).toEqual([{ a: 1 }, "two"]);
  });

  it.each([
    ['{"time":1}', 12],
    ['{"event":null}', 6],
    ['{"event":"x","index":"secret"}', 7],
    ['{"event":"x","fields":{"nested":{"a":1}}}', 15],
    ['{"event":"x"} not json', 6],
  ])("rejects %s with code %i", async (body, code) => {
    expect(await post(body)).toMatchObject({ status: 400, body: { code, "invalid-event-number": expect.any(Number) } });
  });

  it("requires a channel with indexer acknowledgement and acknowledges each id once", async () => {
    expect(await post('{"event":"x"}', { authorization: "Splunk ack-token" })).toMatchObject({ status: 400, body: { code: 10 } });
    const headers = { authorization: "Splunk ack-token", "x-splunk-request-channel": "c0ffee00-0000-0000-0000-000000000000" };
    expect(await post('{"event":"x"}', headers)).toEqual({ status: 200, body: { text: "Success", code: 0, ackId: 0 } });
    const poll = () => call(`${hec.url}/services/collector/ack`, { method: "POST", headers, body: JSON.stringify({ acks: [0, 1] }) });
    expect(await poll()).toEqual({ status: 200, body: { acks: { "0": true, "1": false } } });
    expect(await poll()).toEqual({ status: 200, body: { acks: { "0": false, "1": false } } });
  });
});

describe("Datadog server", () => {
  let dd: DatadogServer;
  beforeAll(async () => {
    dd = await startDatadogServer({ apiKeys: ["good"] });
  });
  afterAll(() => dd.close());
  const logs = (body: Buffer | string, headers: Record<string, string>) => call(`${dd.url}/api/v2/logs`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });

  it("validates keys", async () => {
    expect(await call(`${dd.url}/api/v1/validate`, { headers: { "dd-api-key": "good" } })).toEqual({ status: 200, body: { valid: true } });
    expect(await call(`${dd.url}/api/v1/validate`, { headers: { "dd-api-key": "bad" } })).toEqual({ status: 403, body: { errors: ["Forbidden"] } });
  });

  it("accepts gzip log arrays with 202 and rejects missing, wrong keys and oversize payloads", async () => {
    expect(await logs(gzipSync(JSON.stringify([{ message: "a" }, { message: "b" }])), { "dd-api-key": "good", "content-encoding": "gzip" })).toEqual({ status: 202, body: {} });
    expect(dd.logs.map((l) => l.log.message)).toEqual(["a", "b"]);
    expect(await logs("[]", {})).toMatchObject({ status: 401 });
    expect(await logs("[]", { "dd-api-key": "bad" })).toMatchObject({ status: 403, body: { errors: [{ status: "403" }] } });
    expect(await logs(JSON.stringify([{ message: "x".repeat(5 * 1024 * 1024) }]), { "dd-api-key": "good" })).toMatchObject({ status: 413 });
  });
});

describe("Elasticsearch server", () => {
  let es: ElasticsearchServer;
  const key = encodeApiKey("id1", "k1");
  beforeAll(async () => {
    es = await startElasticsearchServer();
    es.apiKeys.set(key, { username: "writer", authenticationType: "api_key", indices: [{ names: ["logs-*"], privileges: ["write"] }] });
  });
  afterAll(() => es.close());

  it("answers 401 with a security_exception and WWW-Authenticate", async () => {
    const res = await fetch(`${es.url}/_security/_authenticate`);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain("ApiKey");
    expect(await res.json()).toMatchObject({ error: { type: "security_exception" }, status: 401 });
  });

  it("implies create_doc from write, not auto_configure", async () => {
    const body = JSON.stringify({ index: [{ names: ["logs-a-b"], privileges: ["create_doc", "auto_configure"] }] });
    const res = await call(`${es.url}/_security/user/_has_privileges`, { method: "POST", headers: { authorization: `ApiKey ${key}`, "content-type": "application/json" }, body });
    expect(res).toEqual({ status: 200, body: { username: "writer", has_all_requested: false, cluster: {}, index: { "logs-a-b": { create_doc: true, auto_configure: false } }, application: {} } });
  });

  const bulk = (path: string, body: string, contentType = "application/x-ndjson") =>
    call(`${es.url}${path}`, { method: "POST", headers: { authorization: `ApiKey ${key}`, "content-type": contentType }, body });

  it("_bulk: creates by _id, answers 409 for an existing one, 403 per item without privilege, in request order", async () => {
    const body = '{"create":{"_id":"a"}}\n{"n":1}\n{"create":{"_id":"a"}}\n{"n":2}\n{"create":{"_index":"secret","_id":"b"}}\n{"n":3}\n{"index":{"_id":"c"}}\nnot json\n';
    const res = await bulk("/logs-x/_bulk", body);
    const items = (res.body as { errors: boolean; items: Record<string, { status: number; error?: { type: string } }>[] }).items;
    expect((res.body as { errors: boolean }).errors).toBe(true);
    expect(items.map((i) => [Object.keys(i)[0], Object.values(i)[0]!.status, Object.values(i)[0]!.error?.type])).toEqual([
      ["create", 201, undefined],
      ["create", 409, "version_conflict_engine_exception"],
      ["create", 403, "security_exception"],
      ["index", 400, "document_parsing_exception"],
    ]);
    expect(es.documents.get("logs-x")).toEqual([{ _id: "a", _source: { n: 1 } }]);
  });

  it("_bulk: takes only create with @timestamp in a data stream, applies filter_path, and refuses a body without the final newline", async () => {
    es.dataStreams.add("logs-ds-default");
    const body = '{"create":{}}\n{"@timestamp":"2025-01-01T00:00:00Z"}\n{"index":{}}\n{"@timestamp":"2025-01-01T00:00:00Z"}\n{"create":{}}\n{"n":1}\n';
    expect(await bulk("/logs-ds-default/_bulk?filter_path=errors,items.*.status", body)).toEqual({ status: 200, body: { errors: true, items: [{ create: { status: 201 } }, { index: { status: 400 } }, { create: { status: 400 } }] } });
    expect(await bulk("/logs-x/_bulk", '{"create":{}}\n{"n":1}')).toMatchObject({ status: 400, body: { error: { type: "illegal_argument_exception", reason: "The bulk request must be terminated by a newline [\\n]" } } });
    expect(await bulk("/logs-x/_bulk", '{"create":{}}\n{"n":1}\n', "text/plain")).toMatchObject({ status: 406 });
    expect(await bulk("/_bulk", '{"create":{}}\n{"n":1}\n')).toMatchObject({ status: 400, body: { error: { type: "action_request_validation_exception" } } });
  });
});

describe("webhook receiver", () => {
  let receiver: WebhookReceiver;
  const key = Buffer.from(webhookSecret.slice("whsec_".length), "base64");
  const sig = (id: string, ts: number, body: string) => `v1,${createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest("base64")}`;
  beforeAll(async () => {
    receiver = await startWebhookReceiver({ secret: webhookSecret });
  });
  afterAll(() => receiver.close());
  const send = (headers: Record<string, string>, body = "{}") => fetch(`${receiver.url}/in`, { method: "POST", headers, body }).then((r) => r.status);

  it("accepts any matching signature of several, rejects stale timestamps and marks retries", async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(await send({ "webhook-id": "msg_1", "webhook-timestamp": String(now), "webhook-signature": `v1,AAAA ${sig("msg_1", now, "{}")}` })).toBe(204);
    expect(await send({ "webhook-id": "msg_1", "webhook-timestamp": String(now), "webhook-signature": sig("msg_1", now, "{}") })).toBe(204);
    expect(await send({ "webhook-id": "msg_2", "webhook-timestamp": String(now - 600), "webhook-signature": sig("msg_2", now - 600, "{}") })).toBe(401);
    expect(await send({ "webhook-id": "msg_3" })).toBe(400);
    expect(receiver.received.map((r) => [r.id, r.duplicate])).toEqual([
      ["msg_1", false],
      ["msg_1", true],
    ]);
    expect(receiver.rejected.map((r) => r.why)).toEqual(["timestamp outside tolerance", "missing required headers"]);
  });
});
