import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { StoredEvent } from "../../../core/src/events/model.ts";
import type { EsDocument } from "../../protocol-servers/elasticsearch-bulk.ts";
import { encodeApiKey, startElasticsearchServer, type ElasticsearchServer } from "../../protocol-servers/elasticsearch-server.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { expectVerifiableChain, range, startForwarding, until } from "./harness.ts";

const apiKey = encodeApiKey("key-1", "secret-1");
const secrets = { es: { "api-key": apiKey } };
const index = "trailkeeper-audit";
const dataStream = "logs-trailkeeper.audit-default";
const spec = (es: ElasticsearchServer, target: Record<string, string> = { index }, delivery: Record<string, unknown> = {}) => ({
  elasticsearch: { url: es.url, apiKeySecretRef: { name: "es", key: "api-key" }, allowInsecureHttp: true, ...target },
  delivery: { batchSize: 100, maxBackoff: "1s", ...delivery },
});

const original = (doc: EsDocument) => JSON.parse((doc._source.event as { original: string }).original) as StoredEvent;
const seqOf = (doc: EsDocument) => (doc._source.trailkeeper as { seq: number }).seq;
const bulkRequests = (es: ElasticsearchServer) => es.requests.filter((r) => r.path.endsWith("/_bulk"));
const seqsSent = (body: Buffer) => [...body.toString().matchAll(/"sequence":(\d+)/g)].map((m) => Number(m[1]));
const storedSeqs = (es: ElasticsearchServer) => (es.documents.get(index) ?? []).map(seqOf).sort((a, b) => a - b);

describe("forwarding to Elasticsearch", () => {
  let db: TestDatabase;
  let es: ElasticsearchServer;
  beforeAll(async () => {
    db = await freshDatabase();
    es = await startElasticsearchServer();
    es.apiKeys.set(apiKey, { username: "forwarder", authenticationType: "api_key", indices: [{ names: ["trailkeeper-*", "logs-trailkeeper.*"], privileges: ["create_doc", "auto_configure"] }] });
    es.dataStreams.add(dataStream);
  });
  afterAll(async () => {
    await es?.close();
    await db?.drop();
  });
  beforeEach(() => {
    es.documents.clear();
    es.failItem = undefined;
    es.bulkItemStatuses.length = 0;
  });

  it("creates one ECS document per event with _id = event id, in seq order", async () => {
    const run = await startForwarding(db, spec(es), secrets);
    await run.append(260);
    await until(() => (es.documents.get(index)?.length ?? 0) >= 260);
    const stored = await run.stored();
    const docs = es.documents.get(index)!;
    expect(docs.map((d) => d._id)).toEqual(stored.map((e) => e.id));
    expect(docs.map(original)).toEqual(stored);
    expectVerifiableChain(docs.map(original));
    for (const [i, doc] of docs.entries()) {
      const event = stored[i]!;
      expect(doc._source).toMatchObject({
        "@timestamp": event.occurredAt,
        event: { kind: "event", action: event.action, outcome: event.outcome, id: event.id, sequence: event.seq, created: event.receivedAt },
        user: { id: event.actor.id, name: event.actor.name },
        source: { ip: event.clientIp },
        user_agent: { original: event.userAgent },
        organization: { id: run.tenant },
        trailkeeper: { tenant: run.tenant, seq: event.seq, hash: event.hash, prevHash: event.prevHash, category: event.category, resource: event.resource, details: event.details },
      });
    }
    const first = bulkRequests(es).at(-1)!;
    expect(first.path).toBe(`/${index}/_bulk`);
    expect(first.headers["content-type"]).toBe("application/x-ndjson");
    expect(first.query.get("filter_path")).toBe("errors,items.*.status,items.*.error.type,items.*.error.reason");
    expect(first.body.toString()).toMatch(/^\{"create":\{"_id":"[0-9a-f-]{36}"\}\}\n\{"@timestamp":/);
    expect(first.body.toString().endsWith("}\n")).toBe(true);
    await run.stop();
  });

  it("writes into a data stream with create actions", async () => {
    const run = await startForwarding(db, spec(es, { dataStream }), secrets);
    await run.append(12);
    await until(() => (es.documents.get(dataStream)?.length ?? 0) >= 12);
    expect(es.documents.get(dataStream)!.map(seqOf)).toEqual(range(1, 12));
    await run.stop();
  });

  it("handles mixed item statuses: 409 delivered, 429 retried alone, 400 dead-lettered, no duplicates", async () => {
    const run = await startForwarding(db, spec(es), secrets);
    let throttled = false;
    es.failItem = (item) => {
      const seq = (item.source.trailkeeper as { seq: number }).seq;
      if (seq === 3 && !throttled) {
        throttled = true;
        return { status: 429, type: "es_rejected_execution_exception", reason: "rejected execution of coordinating operation" };
      }
      if (seq === 5) return { status: 400, type: "document_parsing_exception", reason: "[1:42] failed to parse field [trailkeeper.details.count] of type [date]" };
      // An earlier attempt that crashed mid-batch already wrote seq 8.
      if (seq === 8 && !es.documents.get(index)?.some((d) => d._id === item.id)) es.documents.get(index)?.push({ _id: item.id!, _source: item.source });
      return undefined;
    };
    const before = bulkRequests(es).length;
    await run.append(10);
    await until(async () => (await run.cursor()).cursorSeq === 10);
    // First request: 1, 2 created, 3 throttled, 5 refused, 8 already there; the cursor stops before 3.
    // Second request: 3…10 again — 3 created, the rest already there (409), 5 refused again and dead-lettered.
    expect(bulkRequests(es).slice(before).map((r) => seqsSent(r.body))).toEqual([range(1, 10), range(3, 10)]);
    expect(es.bulkItemStatuses).toEqual([
      [201, 201, 429, 201, 400, 201, 201, 409, 201, 201],
      [201, 409, 400, 409, 409, 409, 409, 409],
    ]);
    expect(storedSeqs(es)).toEqual([1, 2, 3, 4, 6, 7, 8, 9, 10]);
    expect(new Set(es.documents.get(index)!.map((d) => d._id)).size).toBe(9);
    expect(await run.deadLetters()).toEqual([{ seq: 5, reason: "item status 400 document_parsing_exception: [1:42] failed to parse field [trailkeeper.details.count] of type [date]" }]);
    expect((await run.cursor()).delivered).toBe(9);
    await run.stop();
  });

  it("meets only 409s on a replay or a restart mid-batch, and writes no duplicate", async () => {
    const run = await startForwarding(db, spec(es), secrets);
    await run.append(6);
    await until(async () => (await run.cursor()).cursorSeq === 6);
    await run.restart(0);
    await until(() => es.bulkItemStatuses.length === 2);
    await until(async () => (await run.cursor()).cursorSeq === 6);
    expect(es.bulkItemStatuses[1]).toEqual([409, 409, 409, 409, 409, 409]);
    expect(storedSeqs(es)).toEqual(range(1, 6));
    expect((await run.cursor()).delivered).toBe(12);
    expect(await run.deadLetters()).toEqual([]);
    await run.stop();
  });

  it("waits as long as a whole-request 429 asks with Retry-After", async () => {
    const run = await startForwarding(db, spec(es, { index }, { maxBackoff: "5s" }), secrets);
    es.answerNext({ status: 429, body: { error: { type: "circuit_breaking_exception", reason: "[parent] Data too large" }, status: 429 }, headers: { "retry-after": "2" } });
    const before = bulkRequests(es).length;
    await run.append(4);
    await until(() => (es.documents.get(index)?.length ?? 0) >= 4, 10_000);
    const [throttled, accepted] = bulkRequests(es).slice(before);
    expect(accepted!.receivedAt.getTime() - throttled!.receivedAt.getTime()).toBeGreaterThanOrEqual(1990);
    expect(run.forwarder.stats.failed).toBe(1);
    expect(es.documents.get(index)!.map(seqOf)).toEqual(range(1, 4));
    await run.stop();
  });
});
