import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StoredEvent } from "../../../core/src/events/model.ts";
import { startSplunkHecServer, type SplunkHecServer } from "../../protocol-servers/splunk-hec-server.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { expectVerifiableChain, range, seqs, startForwarding, until } from "./harness.ts";

const token = "11111111-2222-3333-4444-555555555555";
const ackToken = "22222222-2222-3333-4444-555555555555";
const secrets = { hec: { token: `${token}\n`, ack: ackToken } };

const spec = (hec: SplunkHecServer, block: Record<string, unknown> = {}, delivery: Record<string, unknown> = {}) => ({
  splunkHec: { url: hec.url, tokenSecretRef: { name: "hec", key: "token" }, allowInsecureHttp: true, ...block },
  timeout: "1s",
  delivery: { batchSize: 100, maxBackoff: "1s", ...delivery },
});

const eventsIn = (hec: SplunkHecServer) => hec.events.map((e) => e.envelope.event as StoredEvent);

describe("forwarding to Splunk HEC", () => {
  let db: TestDatabase;
  let hec: SplunkHecServer;
  beforeAll(async () => {
    db = await freshDatabase();
    hec = await startSplunkHecServer({ tokens: { [token]: { indexes: ["audit"] }, [ackToken]: { useAck: true } } });
  });
  afterAll(async () => {
    await hec?.close();
    await db?.drop();
  });

  it("sends concatenated envelopes with the event, its time and the configured metadata, in seq order", async () => {
    hec.events.length = 0;
    const run = await startForwarding(db, spec(hec, { index: "audit", source: "trailkeeper-test", host: "audit-host" }), secrets);
    await run.append(230);
    await until(() => hec.events.length >= 230);
    const stored = await run.stored();
    expect(eventsIn(hec)).toEqual(stored);
    expectVerifiableChain(eventsIn(hec));
    for (const [i, { envelope, channel }] of hec.events.entries()) {
      expect(envelope).toEqual({ time: Date.parse(stored[i]!.occurredAt) / 1000, host: "audit-host", source: "trailkeeper-test", sourcetype: "trailkeeper:audit", index: "audit", event: stored[i] });
      expect(channel).toMatch(/^[0-9a-f-]{36}$/);
    }
    const posts = hec.requests.filter((r) => r.path === "/services/collector/event");
    expect(posts.every((r) => r.headers.authorization === `Splunk ${token}`)).toBe(true);
    expect(posts[0]!.body.toString()).toMatch(/^\{"time":\d+(\.\d{1,3})?,"host":"audit-host"/);
    expect(posts[0]!.body.toString()).not.toContain("[{");
    await run.stop();
  });

  it("keeps the events before an invalid one, dead-letters it, and resends the rest", async () => {
    hec.events.length = 0;
    const firstRequest = hec.requests.length;
    hec.rejectEnvelope = (envelope) => ((envelope.event as StoredEvent).seq === 7 ? 6 : undefined);
    const run = await startForwarding(db, spec(hec, {}, { batchSize: 10 }), secrets);
    await run.append(10);
    await until(async () => (await run.cursor()).cursorSeq === 10);
    hec.rejectEnvelope = undefined;
    // One request: 1…6 stored, 7 refused, 8…10 dropped by HEC; then 8…10 alone.
    expect(seqs(eventsIn(hec))).toEqual([...range(1, 6), ...range(8, 10)]);
    const sent = hec.requests.slice(firstRequest).map((r) => [...r.body.toString().matchAll(/"seq":(\d+)/g)].map((m) => Number(m[1])));
    expect(sent).toEqual([range(1, 10), range(8, 10)]);
    expect(await run.deadLetters()).toEqual([{ seq: 7, reason: "Splunk HEC rejected the event: HEC code 6 (Invalid data format)" }]);
    expect((await run.cursor()).delivered).toBe(9);
    expect((await run.cursor()).deadLettered).toBe(1);
    await run.stop();
  });

  it("holds the cursor with a clear message while the token is disabled or HEC is busy, then catches up", async () => {
    hec.events.length = 0;
    hec.tokens.get(token)!.disabled = true;
    const run = await startForwarding(db, spec(hec), secrets);
    await run.append(4);
    await until(() => run.forwarder.stats.failed >= 1);
    expect(run.forwarder.stats.lastError).toMatch(/^the HEC token is disabled: HTTP 403/);
    hec.tokens.get(token)!.disabled = false;
    hec.unhealthyCode = 18;
    await until(() => (run.forwarder.stats.lastError ?? "").startsWith("HEC is unhealthy or busy: HTTP 503"));
    expect((await run.cursor()).cursorSeq).toBe(0);
    expect(await run.deadLetters()).toEqual([]);
    hec.unhealthyCode = undefined;
    await until(() => hec.events.length >= 4);
    expect(seqs(eventsIn(hec))).toEqual(range(1, 4));
    await run.stop();
  });

  it("with indexer acknowledgement, counts a batch delivered only once acknowledged, and resends when it is not", async () => {
    hec.events.length = 0;
    hec.withholdAcks = true;
    const run = await startForwarding(db, spec(hec, { tokenSecretRef: { name: "hec", key: "ack" }, indexerAcknowledgement: true }, { batchSize: 50 }), { ...secrets });
    await run.append(3);
    await until(() => hec.events.length >= 3);
    // Queued but never reported indexed: the cursor holds; after 6 × timeout (1 s) the batch goes again.
    await until(() => run.forwarder.stats.failed >= 1, 15_000);
    expect(run.forwarder.stats.lastError).toMatch(/^Splunk did not acknowledge indexing of ackId 0 within 6 s \(not yet indexed\); resending the batch$/);
    expect((await run.cursor()).cursorSeq).toBe(0);
    hec.withholdAcks = false;
    await until(async () => (await run.cursor()).cursorSeq === 3);
    expect(seqs(eventsIn(hec))).toEqual([1, 2, 3, 1, 2, 3]);
    const acks = hec.requests.filter((r) => r.path === "/services/collector/ack");
    expect(acks.length).toBeGreaterThan(1);
    expect(new Set(acks.map((r) => r.headers["x-splunk-request-channel"]))).toEqual(new Set([hec.events[0]!.channel]));
    await run.stop();
  }, 30_000);
});
