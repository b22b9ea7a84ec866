import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trailkeeperSdId } from "../../../core/src/destinations/syslog/rfc5424.ts";
import { udpMaxMessageBytes } from "../../../core/src/destinations/syslog/sender.ts";
import type { EventInput } from "../../../core/src/events/model.ts";
import { testPki } from "../../protocol-servers/pki.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { liveConnectionsTo, startRsyslog, type ParsedSyslogMessage, type RunningRsyslog } from "../../support/rsyslog.ts";
import { forwardingHostname, range, startForwarding, until } from "./harness.ts";

const pki = testPki();
const secrets = { ca: { "ca.crt": pki.ca.cert.pem } };
const rsyslogTls = { caPath: pki.ca.cert.path, certPath: pki.server.cert.path, keyPath: pki.server.key.path };
const spec = (transport: "tcp" | "tls" | "udp", port: number) => ({
  syslog: { host: "127.0.0.1", port, transport, ...(transport === "tls" ? { tls: { caSecretRef: { name: "ca", key: "ca.crt" } } } : {}) },
  timeout: "2s",
  delivery: { batchSize: 50, maxBackoff: "1s" },
});

/** An event whose actor needs every PARAM-VALUE escape and whose details are not ASCII. */
const awkwardEvent: EventInput = {
  actor: { id: 'ops "root" \\ [admin]', name: "Ops ✓", type: "user" },
  action: "secret.reveal",
  resource: { type: "secret", id: "db-password" },
  outcome: "failure",
  details: { note: "ünïcödé ✓ with a ] bracket and a \"quote\"" },
};

const sd = (m: ParsedSyslogMessage) => m.sd[trailkeeperSdId] ?? {};
const msgJson = (m: ParsedSyslogMessage) => JSON.parse(m.msg.replace(/^\uFEFF/, "")) as unknown;

describe("forwarding to syslog, parsed by a real rsyslog", () => {
  let db: TestDatabase;
  let rsyslog: RunningRsyslog;
  beforeAll(async () => {
    db = await freshDatabase();
    rsyslog = await startRsyslog({ tls: rsyslogTls, udp: true });
  });
  afterAll(async () => {
    await rsyslog?.stop();
    await db?.drop();
  });
  const parsedFor = (tenant: string, receiver = rsyslog) => receiver.parsedMessages().filter((m) => sd(m).tenant === tenant);

  it.each(["tcp", "tls"] as const)("over %s: every event is valid RFC 5424 with intact structured data, in seq order, once", async (transport) => {
    const run = await startForwarding(db, spec(transport, transport === "tls" ? rsyslog.tlsPort! : rsyslog.tcpPort), secrets);
    await run.append(150);
    await run.appendEvent(awkwardEvent);
    await until(() => parsedFor(run.tenant).length >= 151);
    const stored = await run.stored();
    const parsed = parsedFor(run.tenant);
    expect(parsed.map((m) => Number(sd(m).seq))).toEqual(range(1, 151));
    for (const [i, m] of parsed.entries()) {
      const event = stored[i]!;
      expect(m).toMatchObject({
        protocolVersion: "1", // the RFC 5424 parser took it; the RFC 3164 fallback would leave 0
        pri: String(13 * 8 + (event.outcome === "failure" ? 4 : 6)),
        facility: "13",
        timestamp: event.occurredAt,
        hostname: forwardingHostname,
        appName: "trailkeeper",
        procId: "-",
        msgId: event.action,
      });
      expect(sd(m)).toEqual({ tenant: run.tenant, seq: String(event.seq), id: event.id, hash: event.hash, prevHash: event.prevHash, category: event.category, outcome: event.outcome, actor: event.actor.id });
      expect(m.msg.startsWith("\uFEFF")).toBe(true);
      expect(msgJson(m)).toEqual(event);
    }
    expect(sd(parsed.at(-1)!).actor).toBe('ops "root" \\ [admin]');
    expect(parsed.at(-1)!.structuredData).toContain('actor="ops \\"root\\" \\\\ [admin\\]"');
    await run.stop();
  });

  it("over udp: one datagram per message within 2048 bytes, an oversize one truncated and marked", async () => {
    const run = await startForwarding(db, spec("udp", rsyslog.udpPort!), secrets);
    await run.append(40);
    await run.appendEvent({ ...awkwardEvent, details: { note: "ü".repeat(3000) } });
    await until(() => parsedFor(run.tenant).length >= 41);
    const parsed = parsedFor(run.tenant);
    expect(parsed.map((m) => Number(sd(m).seq))).toEqual(range(1, 41));
    const stored = await run.stored();
    for (const m of parsed.slice(0, 40)) expect(msgJson(m)).toEqual(stored[Number(sd(m).seq) - 1]);
    const big = parsed[40]!;
    expect(sd(big)).toMatchObject({ seq: "41", truncated: "true", hash: stored[40]!.hash, actor: awkwardEvent.actor.id });
    expect(() => msgJson(big)).toThrow();
    const raw = rsyslog.rawMessages().filter((line) => line.includes(`tenant="${run.tenant}"`));
    expect(raw).toHaveLength(41);
    for (const line of raw) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(udpMaxMessageBytes);
    expect(Buffer.byteLength(raw.at(-1)!)).toBeGreaterThan(udpMaxMessageBytes - 4);
    await run.stop();
  });

  it("reconnects after the receiver restarts on the same port, losing nothing appended meanwhile", async () => {
    let receiver = await startRsyslog();
    const port = receiver.tcpPort;
    const run = await startForwarding(db, spec("tcp", port), secrets);
    await run.append(10);
    await until(() => parsedFor(run.tenant, receiver).length >= 10);
    const before = parsedFor(run.tenant, receiver);
    await receiver.stop();
    await until(() => liveConnectionsTo(port) === 0); // the forwarder's idle connection has seen the close
    await run.append(10);
    await until(() => run.forwarder.stats.failed >= 1);
    expect(run.forwarder.stats.lastError).toMatch(/^syslog receiver 127\.0\.0\.1:\d+: connection refused/);
    expect((await run.cursor()).cursorSeq).toBe(10);
    receiver = await startRsyslog({ tcpPort: port });
    await until(() => parsedFor(run.tenant, receiver).length >= 10);
    expect([...before, ...parsedFor(run.tenant, receiver)].map((m) => Number(sd(m).seq))).toEqual(range(1, 20));
    await run.stop();
    await receiver.stop();
  });
});
