import { connect as netConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testPki } from "../../protocol-servers/pki.ts";
import { startRsyslog, type RunningRsyslog } from "../../support/rsyslog.ts";

/** The receiver harness itself: what the forwarding tests will rely on to read messages back. */
const pki = testPki();
const message = (transport: string) =>
  `<110>1 2025-01-01T12:00:00.123Z app-1.example.com trailkeeper 4242 USER_LOGIN [audit@32473 seq="7" note="a \\"quoted\\" \\] value"] \u{FEFF}alice logged in over ${transport}`;
const frame = (msg: string) => `${Buffer.byteLength(msg)} ${msg}`; // RFC 5425 / 6587 octet counting

describe("rsyslog test receiver", () => {
  let rsyslog: RunningRsyslog;
  beforeAll(async () => {
    rsyslog = await startRsyslog({ tls: { caPath: pki.ca.cert.path, certPath: pki.server.cert.path, keyPath: pki.server.key.path } });
  });
  afterAll(() => rsyslog?.stop());

  it("receives octet-counted RFC 5424 over TCP and TLS and records them parsed and raw", async () => {
    await new Promise<void>((resolve, reject) => {
      const s = netConnect(rsyslog.tcpPort, "127.0.0.1", () => s.end(frame(message("tcp")), resolve));
      s.on("error", reject);
    });
    await new Promise<void>((resolve, reject) => {
      const s = tlsConnect({ host: "127.0.0.1", port: rsyslog.tlsPort!, ca: pki.ca.cert.pem }, () => s.end(frame(message("tls")), resolve));
      s.on("error", reject);
    });
    const received = await rsyslog.waitForMessages(2);
    expect(received.sort()).toEqual([message("tcp"), message("tls")].sort());
    expect(rsyslog.rawMessages().sort()).toEqual([message("tcp"), message("tls")].sort());
  });
});
