import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { defaultEgressPolicy } from "../../../core/src/net/egress.ts";
import { testPki } from "../../protocol-servers/pki.ts";
import { closedPort, startBlackHole, type BlackHole } from "../../protocol-servers/tcp-fixtures.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../../protocol-servers/webhook-receiver.ts";
import { ocsfProblems } from "../../../core/src/formats/testdata/ocsf-fixture.ts";
import { checkDestination, webhookSecret } from "./check-helpers.ts";

const pki = testPki();
const secrets = { wh: { secret: webhookSecret }, ca: { "ca.crt": pki.ca.cert.pem }, client: { "tls.crt": pki.client.cert.pem, "tls.key": pki.client.key.pem } };
const signingSecretRef = { name: "wh", key: "secret" };
const caSecretRef = { name: "ca", key: "ca.crt" };

describe("webhook tester over http", () => {
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await startWebhookReceiver({ secret: webhookSecret });
  });
  afterAll(() => receiver.close());
  afterEach(() => {
    receiver.respondWith = () => ({ status: 204 });
    receiver.delayMs = 0;
  });
  const spec = (extra: object = {}) => ({ webhook: { url: `${receiver.url}/hooks/trailkeeper`, signingSecretRef, allowInsecureHttp: true }, ...extra });

  it("delivers a correctly signed test event", async () => {
    const before = receiver.received.length;
    const result = await checkDestination(spec(), secrets);
    expect(result).toMatchObject({ success: true, reason: "Succeeded" });
    const delivery = receiver.received[before]!;
    expect(delivery).toMatchObject({ path: "/hooks/trailkeeper", duplicate: false, payload: { type: "trailkeeper.test" } });
    expect(delivery.id).toMatch(/^msg_/);
  });

  it("sends its probe in the destination's format: with ocsf, one valid OCSF event", async () => {
    const before = receiver.received.length;
    expect(await checkDestination(spec({ format: "ocsf" }), secrets)).toMatchObject({ success: true, reason: "Succeeded" });
    const payload = receiver.received[before]!.payload as { type: string; format: string; events: Record<string, unknown>[] };
    expect(payload).toMatchObject({ type: "trailkeeper.test", format: "ocsf", ocsfVersion: "1.3.0" });
    expect(payload.events).toHaveLength(1);
    expect(ocsfProblems(payload.events[0]!)).toEqual([]);
  });

  it("reports a wrong signing secret as InvalidCredentials", async () => {
    const other = `whsec_${Buffer.alloc(32, "another-secret").toString("base64")}`;
    const result = await checkDestination(spec(), { wh: { secret: other } });
    expect(result).toMatchObject({ success: false, reason: "InvalidCredentials" });
    expect(result.message).toContain("HTTP 401");
    expect(result.message).not.toContain(other.slice(6));
    expect(receiver.rejected.at(-1)).toMatchObject({ why: "no matching signature" });
  });

  it.each([
    [410, "NotFound"],
    [404, "NotFound"],
    [429, "RateLimited"],
    [500, "ServerError"],
    [400, "Rejected"],
  ])("maps HTTP %i to %s", async (status, reason) => {
    receiver.respondWith = () => ({ status, body: { error: "test" } });
    await expect(checkDestination(spec(), secrets)).resolves.toMatchObject({ success: false, reason });
  });

  it("does not follow redirects", async () => {
    receiver.respondWith = () => ({ status: 307, headers: { location: "https://elsewhere.example.com/" } });
    const result = await checkDestination(spec(), secrets);
    expect(result).toMatchObject({ success: false, reason: "UnexpectedResponse" });
    expect(result.message).toContain("redirect to https://elsewhere.example.com/ not followed");
  });

  it("times out on a receiver that answers too late", async () => {
    receiver.delayMs = 3000;
    const result = await checkDestination(spec({ timeout: "1s" }), secrets);
    expect(result).toMatchObject({ success: false, reason: "Timeout" });
    expect(result.latencyMs).toBeGreaterThanOrEqual(900);
    expect(result.latencyMs).toBeLessThan(2500);
  });

  it("refuses loopback under the production egress policy, resolving the name first", async () => {
    const before = receiver.requests.length;
    const url = receiver.url.replace("127.0.0.1", "localhost");
    const result = await checkDestination({ webhook: { url, signingSecretRef, allowInsecureHttp: true } }, secrets, defaultEgressPolicy);
    expect(result).toMatchObject({ success: false, reason: "AddressNotAllowed" });
    expect(result.message).toMatch(/loopback/);
    expect(receiver.requests.length).toBe(before);
  });
});

describe("webhook tester over https", () => {
  let trusted: WebhookReceiver;
  let unknownCa: WebhookReceiver;
  let mutual: WebhookReceiver;
  let blackHole: BlackHole;
  beforeAll(async () => {
    trusted = await startWebhookReceiver({ secret: webhookSecret, tls: { cert: pki.server.cert.pem, key: pki.server.key.pem } });
    unknownCa = await startWebhookReceiver({ secret: webhookSecret, tls: { cert: pki.otherServer.cert.pem, key: pki.otherServer.key.pem } });
    mutual = await startWebhookReceiver({ secret: webhookSecret, tls: { cert: pki.server.cert.pem, key: pki.server.key.pem, ca: pki.ca.cert.pem } });
    blackHole = await startBlackHole();
  });
  afterAll(async () => {
    await Promise.all([trusted.close(), unknownCa.close(), mutual.close(), blackHole.close()]);
  });

  it("verifies the server against the CA from the Secret", async () => {
    await expect(checkDestination({ webhook: { url: trusted.url, signingSecretRef, tls: { caSecretRef } } }, secrets)).resolves.toMatchObject({ success: true });
  });

  it("fails with TLSError when the server's CA is not trusted", async () => {
    const result = await checkDestination({ webhook: { url: unknownCa.url, signingSecretRef, tls: { caSecretRef } } }, secrets);
    expect(result).toMatchObject({ success: false, reason: "TLSError" });
    expect(unknownCa.received).toHaveLength(0);
  });

  it("fails with TLSError against the system roots", async () => {
    await expect(checkDestination({ webhook: { url: trusted.url, signingSecretRef } }, secrets)).resolves.toMatchObject({ success: false, reason: "TLSError" });
  });

  it("connects with insecureSkipVerify", async () => {
    await expect(checkDestination({ webhook: { url: unknownCa.url, signingSecretRef, tls: { insecureSkipVerify: true } } }, secrets)).resolves.toMatchObject({ success: true });
  });

  it("presents a client certificate when configured", async () => {
    const tls = { caSecretRef, clientCertSecretRef: { name: "client", key: "tls.crt" }, clientKeySecretRef: { name: "client", key: "tls.key" } };
    await expect(checkDestination({ webhook: { url: mutual.url, signingSecretRef, tls } }, secrets)).resolves.toMatchObject({ success: true });
    const without = await checkDestination({ webhook: { url: mutual.url, signingSecretRef, tls: { caSecretRef } } }, secrets);
    expect(without.success).toBe(false);
    expect(["TLSError", "Unreachable"]).toContain(without.reason);
  });

  it("reports a refused connection as Unreachable", async () => {
    const port = await closedPort();
    const result = await checkDestination({ webhook: { url: `https://127.0.0.1:${port}/`, signingSecretRef } }, secrets);
    expect(result).toMatchObject({ success: false, reason: "Unreachable" });
    expect(result.message).toContain("connection refused");
  });

  it("times out on a peer that never completes the TLS handshake", async () => {
    const result = await checkDestination({ webhook: { url: blackHole.url, signingSecretRef }, timeout: "1s" }, secrets);
    expect(result).toMatchObject({ success: false, reason: "Timeout" });
  });
});
