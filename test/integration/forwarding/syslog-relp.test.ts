import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { relpWindow } from "../../../core/src/destinations/syslog/relp-session.ts";
import { trailkeeperSdId } from "../../../core/src/destinations/syslog/rfc5424.ts";
import { testPki } from "../../protocol-servers/pki.ts";
import { startRelpServer, type ScriptedRelpServer } from "../../protocol-servers/relp-server.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { startRsyslog, type ParsedSyslogMessage, type RunningRsyslog } from "../../support/rsyslog.ts";
import { forwardingHostname, range, startForwarding, until } from "./harness.ts";

const pki = testPki();
const secrets = { ca: { "ca.crt": pki.ca.cert.pem } };
const rsyslogTls = { caPath: pki.ca.cert.path, certPath: pki.server.cert.path, keyPath: pki.server.key.path };
const spec = (transport: "relp" | "relp-tls", port: number) => ({
  syslog: { host: "127.0.0.1", port, transport, ...(transport === "relp-tls" ? { tls: { caSecretRef: { name: "ca", key: "ca.crt" } } } : {}) },
  timeout: "2s",
  delivery: { batchSize: 50, maxBackoff: "1s" },
});

const sd = (m: ParsedSyslogMessage) => m.sd[trailkeeperSdId] ?? {};
const msgJson = (m: ParsedSyslogMessage) => JSON.parse(m.msg.replace(/^\uFEFF/, "")) as unknown;

describe("forwarding over RELP to a real rsyslog imrelp", () => {
  let db: TestDatabase;
  let rsyslog: RunningRsyslog;
  beforeAll(async () => {
    db = await freshDatabase();
    rsyslog = await startRsyslog({ tls: rsyslogTls, relp: true, relpTls: true });
  });
  afterAll(async () => {
    await rsyslog?.stop();
    await db?.drop();
  });
  const parsedFor = (tenant: string, receiver = rsyslog) => receiver.parsedMessages().filter((m) => sd(m).tenant === tenant);

  it.each(["relp", "relp-tls"] as const)("over %s: every event arrives as RFC 5424, in seq order, once", async (transport) => {
    const run = await startForwarding(db, spec(transport, transport === "relp" ? rsyslog.relpPort! : rsyslog.relpTlsPort!), secrets);
    await run.append(300);
    await until(async () => (await run.cursor()).cursorSeq === 300);
    // The cursor moves only on acknowledgement, and imrelp acknowledges after the (direct) ruleset wrote the file.
    const parsed = parsedFor(run.tenant);
    expect(parsed.map((m) => Number(sd(m).seq))).toEqual(range(1, 300));
    const stored = await run.stored();
    for (const [i, m] of parsed.entries()) {
      expect(m).toMatchObject({ protocolVersion: "1", hostname: forwardingHostname, appName: "trailkeeper", msgId: stored[i]!.action });
      expect(msgJson(m)).toEqual(stored[i]);
    }
    expect(run.forwarder.stats.failed).toBe(0);
    await run.stop();
  });

  it.each(["relp", "relp-tls"] as const)("over %s: a receiver killed with -9 mid-stream and restarted loses nothing", async (transport) => {
    let receiver = await startRsyslog({ tls: rsyslogTls, relp: transport === "relp", relpTls: transport === "relp-tls" });
    const port = (transport === "relp" ? receiver.relpPort : receiver.relpTlsPort)!;
    const crashed: RunningRsyslog[] = [];
    const run = await startForwarding(db, spec(transport, port), secrets);
    try {
      await run.append(2000);
      await until(() => parsedFor(run.tenant, receiver).length >= 200);
      await receiver.crash(); // mid-stream: batches are in flight, unacknowledged frames are on the wire
      crashed.push(receiver);
      await run.append(500);
      await until(() => run.forwarder.stats.failed >= 1);
      receiver = await startRsyslog({ tls: rsyslogTls, ...(transport === "relp" ? { relp: port } : { relpTls: port }) });
      await until(async () => (await run.cursor()).cursorSeq === 2500, 60_000);
      const ids = new Set([...crashed, receiver].flatMap((r) => parsedFor(run.tenant, r)).map((m) => sd(m).id));
      const stored = await run.stored();
      expect(stored.filter((e) => !ids.has(e.id)).map((e) => e.seq)).toEqual([]);
      expect(ids.size).toBe(2500);
    } finally {
      await run.stop();
      await receiver.stop();
      for (const r of crashed) await r.stop();
    }
  });
});

describe("RELP failures a scripted receiver shows on demand", () => {
  let db: TestDatabase;
  let receiver: ScriptedRelpServer;
  beforeAll(async () => {
    db = await freshDatabase();
  });
  afterEach(async () => {
    await receiver?.close();
  });
  afterAll(async () => {
    await db?.drop();
  });
  const seqsAccepted = () => receiver.accepted.map((m) => Number(/ seq="(\d+)"/.exec(m)?.[1]));
  const scripted = (port: number) => ({ syslog: { host: "127.0.0.1", port, transport: "relp" as const }, timeout: "1s", delivery: { batchSize: 20, maxBackoff: "1s" } });

  it("offers relp_version 0 and the syslog command, and ends the session with close", async () => {
    receiver = await startRelpServer();
    const run = await startForwarding(db, scripted(receiver.port), {});
    await run.append(3);
    await until(async () => (await run.cursor()).cursorSeq === 3);
    await run.stop();
    expect(receiver.opens).toHaveLength(1);
    expect(receiver.opens[0]!.get("relp_version")).toEqual(["0"]);
    expect(receiver.opens[0]!.get("commands")).toEqual(["syslog"]);
    expect(receiver.opens[0]!.get("relp_software")?.[0]).toBe("trailkeeper");
    expect(receiver.closes).toBe(1);
  });

  it("a 500 answer fails that message and the rest of the batch, which are sent again; the acknowledged prefix is not", async () => {
    let refused = false;
    receiver = await startRelpServer((message) => (!refused && message.includes(' seq="8"') ? ((refused = true), "refuse") : "ok"));
    const run = await startForwarding(db, scripted(receiver.port), {});
    await run.append(20);
    await until(async () => (await run.cursor()).cursorSeq === 20);
    expect(run.forwarder.stats.lastError).toMatch(/^seq 8: syslog receiver 127\.0\.0\.1:\d+ refused a message: RELP 500 message refused by the test script$/);
    const seqs = seqsAccepted();
    expect(new Set(seqs)).toEqual(new Set(range(1, 20)));
    for (const seq of range(1, 7)) expect(seqs.filter((s) => s === seq)).toHaveLength(1);
    await run.stop();
  });

  it("serverclose mid-batch: the unanswered messages are sent again on a new session", async () => {
    let hinted = false;
    receiver = await startRelpServer((message) => (!hinted && message.includes(' seq="6"') ? ((hinted = true), "serverclose") : "ok"));
    const run = await startForwarding(db, scripted(receiver.port), {});
    await run.append(20);
    await until(async () => (await run.cursor()).cursorSeq === 20);
    expect(run.forwarder.stats.lastError).toMatch(/serverclose/);
    expect(receiver.opens.length).toBe(2);
    const seqs = seqsAccepted();
    expect(new Set(seqs)).toEqual(new Set(range(1, 20)));
    for (const seq of range(1, 5)) expect(seqs.filter((s) => s === seq)).toHaveLength(1);
    await run.stop();
  });

  it(`never has more than ${relpWindow} commands unanswered`, async () => {
    receiver = await startRelpServer(() => "silent");
    const run = await startForwarding(db, { ...scripted(receiver.port), delivery: { batchSize: 300, maxBackoff: "1s" } }, {});
    await run.append(300);
    await until(() => run.forwarder.stats.failed >= 1);
    expect(receiver.received).toBe(relpWindow);
    expect(run.forwarder.stats.lastError).toMatch(new RegExp(`\\(${relpWindow} commands unanswered\\)`));
    await run.stop();
  });

  it("a receiver that stops answering fails the batch after spec.timeout without an answer", async () => {
    let silent = true;
    receiver = await startRelpServer(() => (silent ? "silent" : "ok"));
    const run = await startForwarding(db, scripted(receiver.port), {});
    const started = performance.now();
    await run.append(5);
    await until(() => run.forwarder.stats.failed >= 1);
    expect(performance.now() - started).toBeLessThan(1000 + 1500); // spec.timeout 1s, plus the forwarder's poll
    expect(run.forwarder.stats.lastError).toMatch(/no RELP answer within 1000 ms \(5 commands unanswered\)/);
    expect((await run.cursor()).cursorSeq).toBe(0);
    silent = false;
    await until(async () => (await run.cursor()).cursorSeq === 5);
    expect(new Set(seqsAccepted())).toEqual(new Set(range(1, 5)));
    await run.stop();
  });
});
