import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StoredEvent } from "../../../core/src/events/model.ts";
import { startDatadogServer, type DatadogServer } from "../../protocol-servers/datadog-server.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { expectVerifiableChain, forwardingHostname, range, seqs, startForwarding, until } from "./harness.ts";

const apiKey = "0123456789abcdef0123456789abcdef";
const secrets = { dd: { "api-key": apiKey } };
const spec = (dd: DatadogServer, delivery: Record<string, unknown> = {}) => ({
  datadog: { apiKeySecretRef: { name: "dd", key: "api-key" }, endpoint: dd.url, allowInsecureHttp: true, service: "audit-svc", tags: ["env:test", "team:sec"] },
  delivery: { maxBackoff: "1s", ...delivery },
});

const eventsIn = (dd: DatadogServer) => dd.logs.map((l) => l.log.trailkeeper as StoredEvent);
const logRequests = (dd: DatadogServer) => dd.requests.filter((r) => r.path === "/api/v2/logs");

describe("forwarding to Datadog", () => {
  let db: TestDatabase;
  let dd: DatadogServer;
  beforeAll(async () => {
    db = await freshDatabase();
    dd = await startDatadogServer({ apiKeys: [apiKey] });
  });
  afterAll(async () => {
    await dd?.close();
    await db?.drop();
  });

  it("sends gzipped arrays of at most 1000 logs with tags, status and the event, in seq order", async () => {
    const run = await startForwarding(db, spec(dd, { batchSize: 2500, batchBytes: 5_242_880 }), secrets);
    await run.append(2100);
    await until(() => dd.logs.length >= 2100);
    const stored = await run.stored();
    expect(eventsIn(dd)).toEqual(stored);
    expectVerifiableChain(eventsIn(dd));
    const requests = logRequests(dd);
    expect(requests.map((r) => (JSON.parse(r.body.toString()) as unknown[]).length)).toEqual([1000, 1000, 100]);
    for (const r of requests) {
      expect(r.headers["content-encoding"]).toBe("gzip");
      expect(r.headers["dd-api-key"]).toBe(apiKey);
      expect(gunzipSync(r.rawBody).length).toBeLessThanOrEqual(5_000_000);
    }
    for (const [i, { log }] of dd.logs.entries()) {
      const event = stored[i]!;
      expect(log).toMatchObject({
        ddsource: "trailkeeper",
        service: "audit-svc",
        hostname: forwardingHostname,
        ddtags: `tenant:${run.tenant},env:test,team:sec`,
        status: event.outcome === "failure" ? "warn" : "info",
        date: event.occurredAt,
        evt: { name: event.action, outcome: event.outcome, category: event.category },
        usr: { id: event.actor.id, name: event.actor.name },
        network: { client: { ip: event.clientIp } },
      });
    }
    await run.stop();
  });

  it("retries throttling and server errors, honouring Retry-After, without loss or duplicates", async () => {
    dd.logs.length = 0;
    dd.answerNext({ status: 429, body: { errors: [{ status: "429", title: "Too Many Requests" }] }, headers: { "retry-after": "1" } }, { status: 503, body: { errors: [] } });
    const run = await startForwarding(db, spec(dd, { maxBackoff: "2s" }), secrets);
    const before = logRequests(dd).length;
    await run.append(5);
    await until(() => dd.logs.length >= 5);
    expect(seqs(eventsIn(dd))).toEqual(range(1, 5));
    const attempts = logRequests(dd).slice(before);
    expect(attempts).toHaveLength(3);
    expect(attempts[1]!.receivedAt.getTime() - attempts[0]!.receivedAt.getTime()).toBeGreaterThanOrEqual(990);
    expect(run.forwarder.stats.failed).toBe(2);
    await run.stop();
  });

  it("holds the cursor while the API key is refused", async () => {
    dd.logs.length = 0;
    const run = await startForwarding(db, spec(dd), { dd: { "api-key": "wrong" } });
    await run.append(2);
    await until(() => run.forwarder.stats.failed >= 1);
    expect(run.forwarder.stats.lastError).toMatch(/^HTTP 403 from http:\/\/127\.0\.0\.1:\d+\/api\/v2\/logs: .*API key is invalid/);
    expect(await run.deadLetters()).toEqual([]);
    expect(dd.logs).toEqual([]);
    await run.stop();
  });
});
