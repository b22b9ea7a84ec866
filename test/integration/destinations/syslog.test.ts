import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultEgressPolicy } from "../../../core/src/net/egress.ts";
import { testPki } from "../../protocol-servers/pki.ts";
import { closedPort, startBlackHole, type BlackHole } from "../../protocol-servers/tcp-fixtures.ts";
import { startRsyslog, type RunningRsyslog } from "../../support/rsyslog.ts";
import { checkDestination } from "./check-helpers.ts";

const pki = testPki();
const secrets = {
  ca: { "ca.crt": pki.ca.cert.pem },
  other: { "ca.crt": pki.otherCa.cert.pem },
  client: { "tls.crt": pki.client.cert.pem, "tls.key": pki.client.key.pem },
};
const caSecretRef = { name: "ca", key: "ca.crt" };

describe("syslog tester against rsyslog", () => {
  let rsyslog: RunningRsyslog;
  let blackHole: BlackHole;
  beforeAll(async () => {
    rsyslog = await startRsyslog({ tls: { caPath: pki.ca.cert.path, certPath: pki.server.cert.path, keyPath: pki.server.key.path }, mutualTls: true });
    blackHole = await startBlackHole();
  });
  afterAll(async () => {
    await rsyslog?.stop();
    await blackHole?.close();
  });
  /** The check's message beside what rsyslogd printed: a TLS failure under load is diagnosed from both sides. */
  const receiverSaw = (result: { message: string }) => `check: ${result.message}\nrsyslogd: ${rsyslog.output().slice(-2000)}`;

  it("connects over TCP, sends nothing and says acceptance is unproven", async () => {
    const result = await checkDestination({ syslog: { host: "127.0.0.1", port: rsyslog.tcpPort, transport: "tcp" } }, secrets);
    expect(result).toMatchObject({ success: true, reason: "Succeeded" });
    expect(result.message).toContain(`TCP connection to 127.0.0.1:${rsyslog.tcpPort} succeeded`);
    expect(result.message).toContain("not proven");
    // rsyslog writes asynchronously: send a sentinel after the check and wait for it, then nothing else may be there.
    const frame = "<14>1 2026-01-01T00:00:00Z test sentinel - - - after the check";
    await new Promise<void>((resolve, reject) => {
      const socket = connect(rsyslog.tcpPort, "127.0.0.1", () => socket.end(`${Buffer.byteLength(frame)} ${frame}`));
      socket.on("close", () => resolve()).on("error", reject);
    });
    await rsyslog.waitForMessages(1);
    expect(rsyslog.messages()).toHaveLength(1);
    expect(rsyslog.messages()[0]).toContain("after the check");
  });

  it("completes a verified TLS handshake with the CA from the Secret", async () => {
    const result = await checkDestination({ syslog: { host: "localhost", port: rsyslog.tlsPort, tls: { caSecretRef } } }, secrets);
    expect(result).toMatchObject({ success: true, reason: "Succeeded" });
    expect(result.message).toMatch(/TLS handshake with localhost:\d+ succeeded \(TLSv1\.[23], certificate verified\)/);
  });

  it("fails with TLSError when the receiver's certificate is from an unknown CA", async () => {
    const result = await checkDestination({ syslog: { host: "127.0.0.1", port: rsyslog.tlsPort, tls: { caSecretRef: { name: "other", key: "ca.crt" } } } }, secrets);
    expect(result, receiverSaw(result)).toMatchObject({ success: false, reason: "TLSError" });
  });

  it("fails with TLSError when the certificate does not name the host", async () => {
    const result = await checkDestination({ syslog: { host: "127.0.0.1", port: rsyslog.tlsPort, tls: { caSecretRef, serverName: "syslog.example.com" } } }, secrets);
    expect(result, receiverSaw(result)).toMatchObject({ success: false, reason: "TLSError" });
    expect(result.message).toContain("ERR_TLS_CERT_ALTNAME_INVALID");
  });

  it("connects without verification only when insecureSkipVerify is set, and says so", async () => {
    const result = await checkDestination({ syslog: { host: "127.0.0.1", port: rsyslog.tlsPort, tls: { insecureSkipVerify: true } } }, secrets);
    expect(result, receiverSaw(result)).toMatchObject({ success: true });
    expect(result.message).toContain("certificate NOT verified");
  });

  it("presents a client certificate to a receiver that requires one, and notices when it is missing", async () => {
    const clientTls = { caSecretRef, clientCertSecretRef: { name: "client", key: "tls.crt" }, clientKeySecretRef: { name: "client", key: "tls.key" } };
    await expect(checkDestination({ syslog: { host: "127.0.0.1", port: rsyslog.mutualTlsPort, tls: clientTls } }, secrets)).resolves.toMatchObject({ success: true });
    const without = await checkDestination({ syslog: { host: "127.0.0.1", port: rsyslog.mutualTlsPort, tls: { caSecretRef } } }, secrets);
    expect(without).toMatchObject({ success: false, reason: "TLSError" });
  });

  it("reports a refused connection as Unreachable", async () => {
    const port = await closedPort();
    await expect(checkDestination({ syslog: { host: "127.0.0.1", port, transport: "tcp" } }, secrets)).resolves.toMatchObject({ success: false, reason: "Unreachable" });
  });

  it("times out when the TLS handshake never completes", async () => {
    const result = await checkDestination({ syslog: { host: "127.0.0.1", port: blackHole.port, tls: { caSecretRef } }, timeout: "1s" }, secrets);
    expect(result).toMatchObject({ success: false, reason: "Timeout" });
  });

  it("cannot verify UDP and says so honestly", async () => {
    const result = await checkDestination({ syslog: { host: "localhost", port: 514, transport: "udp" } }, secrets);
    expect(result).toMatchObject({ success: true, reason: "Unverifiable" });
    expect(result.message).toContain("UDP syslog cannot be verified");
  });

  it("applies the egress policy to syslog hosts too", async () => {
    await expect(checkDestination({ syslog: { host: "169.254.169.254", transport: "udp" } }, secrets, defaultEgressPolicy)).resolves.toMatchObject({ reason: "AddressNotAllowed" });
    await expect(checkDestination({ syslog: { host: "localhost", port: rsyslog.tcpPort, transport: "tcp" } }, secrets, defaultEgressPolicy)).resolves.toMatchObject({ reason: "AddressNotAllowed" });
  });
});
