import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StoredEvent } from "../../../core/src/events/model.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../../protocol-servers/webhook-receiver.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { webhookSecret } from "../destinations/check-helpers.ts";
import { expectVerifiableChain, range, seqs, startForwarding, until } from "./harness.ts";

const secrets = { wh: { secret: webhookSecret } };
const spec = (url: string, delivery: Record<string, unknown> = {}) => ({
  webhook: { url: `${url}/hooks/audit`, signingSecretRef: { name: "wh", key: "secret" }, allowInsecureHttp: true },
  delivery: { batchSize: 100, maxBackoff: "1s", ...delivery },
});

interface AuditBatch {
  type: string;
  events: StoredEvent[];
}

const eventsOf = (receiver: WebhookReceiver) => receiver.received.flatMap((d) => (d.payload as AuditBatch).events);

describe("forwarding to a Standard Webhooks receiver", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
  });
  afterAll(() => db?.drop());

  it("delivers every event once, in seq order, in signed typed batches a receiver can verify", async () => {
    const receiver = await startWebhookReceiver({ secret: webhookSecret });
    const run = await startForwarding(db, spec(receiver.url), secrets);
    await run.append(250);
    await until(() => eventsOf(receiver).length >= 250);
    const received = eventsOf(receiver);
    expect(received).toEqual(await run.stored());
    expect(seqs(received)).toEqual(range(1, 250));
    expect(receiver.rejected).toEqual([]);
    for (const delivery of receiver.received) {
      expect(delivery.duplicate).toBe(false);
      expect(delivery.path).toBe("/hooks/audit");
      expect(delivery.id).toMatch(/^msg_[0-9a-f]{32}$/);
      expect((delivery.payload as AuditBatch).type).toBe("trailkeeper.audit.batch");
      expect((delivery.payload as AuditBatch).events.length).toBeLessThanOrEqual(100);
    }
    expect(received.every((e) => e.tenant === run.tenant)).toBe(true);
    expectVerifiableChain(received);
    await until(async () => (await run.cursor()).cursorSeq === 250);
    expect((await run.cursor()).delivered).toBe(250);
    await run.stop();
    await receiver.close();
  });

  it("keeps webhook-id across a retry, re-signs with a fresh timestamp, and honours Retry-After", async () => {
    const receiver = await startWebhookReceiver({ secret: webhookSecret });
    let attempts = 0;
    receiver.respondWith = () => (++attempts === 1 ? { status: 503, headers: { "retry-after": "1" } } : { status: 204 });
    const run = await startForwarding(db, spec(receiver.url), secrets);
    await run.append(5);
    await until(() => receiver.received.length >= 2);
    const [first, second] = receiver.received;
    expect(second!.id).toBe(first!.id);
    expect(second!.duplicate).toBe(true);
    expect(second!.body).toBe(first!.body);
    expect(second!.timestamp).toBeGreaterThan(first!.timestamp); // a new signature over a new timestamp, verified by the receiver
    const gap = receiver.requests[1]!.receivedAt.getTime() - receiver.requests[0]!.receivedAt.getTime();
    expect(gap).toBeGreaterThanOrEqual(990);
    expect(receiver.requests[1]!.headers["webhook-signature"]).not.toBe(receiver.requests[0]!.headers["webhook-signature"]);
    await until(async () => (await run.cursor()).cursorSeq === 5);
    await run.stop();
    await receiver.close();
  });

  it("stops with state gone when the receiver answers 410", async () => {
    const receiver = await startWebhookReceiver({ secret: webhookSecret });
    receiver.respondWith = () => ({ status: 410 });
    const run = await startForwarding(db, spec(receiver.url), secrets);
    await run.append(3);
    await until(() => run.forwarder.stats.state === "gone");
    expect(run.forwarder.stats.lastError).toContain("the receiver answered 410 Gone and asks not to be sent events any more");
    expect(run.forwarder.stats.lastError).toMatch(/HTTP 410 from http:\/\/127\.0\.0\.1:\d+\/hooks\/audit/);
    expect(receiver.received).toHaveLength(1);
    expect((await run.cursor()).cursorSeq).toBe(0);
    await run.stop();
    await receiver.close();
  });

  it("holds the cursor while the receiver is down and catches up on the same port without loss", async () => {
    let receiver = await startWebhookReceiver({ secret: webhookSecret });
    const { port } = receiver;
    const run = await startForwarding(db, spec(receiver.url), secrets);
    await run.append(20);
    await until(() => eventsOf(receiver).length >= 20);
    const before = eventsOf(receiver);
    await receiver.close();
    await run.append(30);
    await until(() => run.forwarder.stats.failed >= 2);
    expect(run.forwarder.stats.state).toBe("backoff");
    expect(run.forwarder.stats.lastError).toMatch(/^connection refused \(127\.0\.0\.1:\d+\) \[ECONNREFUSED\]$/);
    expect((await run.cursor()).cursorSeq).toBe(20);
    receiver = await startWebhookReceiver({ secret: webhookSecret, port });
    await until(() => eventsOf(receiver).length >= 30);
    expect(seqs([...before, ...eventsOf(receiver)])).toEqual(range(1, 50));
    await until(async () => (await run.cursor()).cursorSeq === 50);
    await run.stop();
    await receiver.close();
  });
});
