import { createServer, type AddressInfo, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testPki } from "../../protocol-servers/pki.ts";
import { startRelpServer, type ScriptedRelpServer } from "../../protocol-servers/relp-server.ts";
import { closedPort } from "../../protocol-servers/tcp-fixtures.ts";
import { startRsyslog, type RunningRsyslog } from "../../support/rsyslog.ts";
import { checkDestination } from "./check-helpers.ts";

const pki = testPki();
const secrets = { ca: { "ca.crt": pki.ca.cert.pem }, other: { "ca.crt": pki.otherCa.cert.pem } };
const caSecretRef = { name: "ca", key: "ca.crt" };
const relp = (port: number | undefined, extra: Record<string, unknown> = {}) => ({ syslog: { host: "127.0.0.1", port, transport: "relp" as const, ...extra }, timeout: "2s" });

describe("syslog RELP tester", () => {
  let rsyslog: RunningRsyslog;
  let notRelp: Server;
  let scripted: ScriptedRelpServer;
  beforeAll(async () => {
    rsyslog = await startRsyslog({ tls: { caPath: pki.ca.cert.path, certPath: pki.server.cert.path, keyPath: pki.server.key.path }, relp: true, relpTls: true });
    // An HTTP server where a RELP receiver was expected: it answers, but not in RELP.
    notRelp = createServer((socket) => socket.once("data", () => socket.end("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")));
    await new Promise<void>((resolve) => notRelp.listen(0, "127.0.0.1", resolve));
    scripted = await startRelpServer(() => "ok", { openAnswer: "200 OK\nrelp_version=0\ncommands=" });
  });
  afterAll(async () => {
    await rsyslog?.stop();
    await new Promise((resolve) => notRelp?.close(resolve));
    await scripted?.close();
  });

  it("opens and closes a RELP session with rsyslog's imrelp, sending no message", async () => {
    const result = await checkDestination(relp(rsyslog.relpPort), secrets);
    expect(result).toMatchObject({ success: true, reason: "Succeeded" });
    expect(result.message).toBe(`RELP session with 127.0.0.1:${rsyslog.relpPort} opened and closed (receiver librelp), over plain TCP: messages are not encrypted; every message will be acknowledged`);
    expect(rsyslog.messages()).toEqual([]);
  });

  it("over relp-tls, verifies the receiver's certificate against the CA from the Secret", async () => {
    const result = await checkDestination({ syslog: { host: "localhost", port: rsyslog.relpTlsPort, transport: "relp-tls", tls: { caSecretRef } }, timeout: "2s" }, secrets);
    expect(result).toMatchObject({ success: true, reason: "Succeeded" });
    expect(result.message).toMatch(/^RELP session with localhost:\d+ opened and closed \(receiver librelp\), over TLSv1\.[23], certificate verified;/);
  });

  it("over relp-tls, fails with TLSError for a certificate from an unknown CA", async () => {
    const result = await checkDestination({ syslog: { host: "127.0.0.1", port: rsyslog.relpTlsPort, transport: "relp-tls", tls: { caSecretRef: { name: "other", key: "ca.crt" } } }, timeout: "2s" }, secrets);
    expect(result).toMatchObject({ success: false, reason: "TLSError" });
  });

  it("times out against a plain syslog port, which never answers the open command", async () => {
    const result = await checkDestination(relp(rsyslog.tcpPort), secrets);
    expect(result).toMatchObject({ success: false, reason: "Timeout" });
  });

  it("reports a peer that answers something else than RELP as UnexpectedResponse", async () => {
    const result = await checkDestination(relp((notRelp.address() as AddressInfo).port), secrets);
    expect(result).toMatchObject({ success: false, reason: "UnexpectedResponse" });
    expect(result.message).toMatch(/does not answer as a RELP receiver: RELP protocol error: invalid header "HTTP\/1\.1 400 Bad/);
  });

  it("reports a receiver that does not take the syslog command as Rejected", async () => {
    const result = await checkDestination(relp(scripted.port), secrets);
    expect(result).toMatchObject({ success: false, reason: "Rejected", message: `RELP receiver 127.0.0.1:${scripted.port}: the receiver does not accept the syslog command` });
  });

  it("reports a refused connection as Unreachable", async () => {
    await expect(checkDestination(relp(await closedPort()), secrets)).resolves.toMatchObject({ success: false, reason: "Unreachable" });
  });
});
