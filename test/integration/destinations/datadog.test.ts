import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDatadogServer, type DatadogServer } from "../../protocol-servers/datadog-server.ts";
import { testPki } from "../../protocol-servers/pki.ts";
import { startSplunkHecServer, type SplunkHecServer } from "../../protocol-servers/splunk-hec-server.ts";
import { closedPort, startBlackHole, type BlackHole } from "../../protocol-servers/tcp-fixtures.ts";
import type { DatadogSite } from "../../../core/src/destinations/datadog/sites.ts";
import { checkDestination } from "./check-helpers.ts";

const pki = testPki();
const usKey = "0123456789abcdef0123456789abcdef";
const euKey = "fedcba9876543210fedcba9876543210";
const secrets = { dd: { us: usKey, eu: euKey, bogus: "not-a-key" }, ca: { "ca.crt": pki.ca.cert.pem } };
const apiKeySecretRef = (key: string) => ({ name: "dd", key });

describe("Datadog tester", () => {
  let us1: DatadogServer;
  let eu1: DatadogServer;
  let eu1Tls: DatadogServer;
  let splunk: SplunkHecServer;
  let blackHole: BlackHole;
  beforeAll(async () => {
    us1 = await startDatadogServer({ apiKeys: [usKey] });
    eu1 = await startDatadogServer({ apiKeys: [euKey] });
    eu1Tls = await startDatadogServer({ apiKeys: [euKey], tls: { cert: pki.server.cert.pem, key: pki.server.key.pem } });
    splunk = await startSplunkHecServer();
    blackHole = await startBlackHole();
  });
  afterAll(() => Promise.all([us1.close(), eu1.close(), eu1Tls.close(), splunk.close(), blackHole.close()]));
  const spec = (key: string, endpoint: string, site: DatadogSite = "datadoghq.com") => ({ datadog: { site, apiKeySecretRef: apiKeySecretRef(key), endpoint, allowInsecureHttp: true } });

  it("validates the key with GET /api/v1/validate and writes nothing", async () => {
    const before = us1.requests.length;
    const result = await checkDestination(spec("us", us1.url), secrets);
    expect(result).toMatchObject({ success: true, reason: "Succeeded" });
    const [request] = us1.requests.slice(before);
    expect(`${request!.method} ${request!.path}`).toBe("GET /api/v1/validate");
    expect(request!.headers["dd-api-key"]).toBe(usKey);
    expect(us1.logs).toHaveLength(0);
  });

  it("reports an invalid key as InvalidCredentials without echoing it", async () => {
    const result = await checkDestination(spec("bogus", us1.url), secrets);
    expect(result).toMatchObject({ success: false, reason: "InvalidCredentials" });
    expect(result.message).toContain("HTTP 403");
    expect(result.message).not.toContain("not-a-key");
  });

  it("reports a key of another site as InvalidCredentials naming the site", async () => {
    const result = await checkDestination(spec("us", eu1.url, "datadoghq.eu"), secrets);
    expect(result).toMatchObject({ success: false, reason: "InvalidCredentials" });
    expect(result.message).toContain("datadoghq.eu (EU1)");
    expect(result.message).toContain("belongs to this site");
  });

  it("reports an endpoint that is not Datadog as NotFound", async () => {
    await expect(checkDestination(spec("us", splunk.url), secrets)).resolves.toMatchObject({ success: false, reason: "NotFound" });
  });

  it("verifies TLS against the configured CA and fails on an unknown one", async () => {
    const ca = { caSecretRef: { name: "ca", key: "ca.crt" } };
    await expect(checkDestination({ datadog: { apiKeySecretRef: apiKeySecretRef("eu"), endpoint: eu1Tls.url, tls: ca } }, secrets)).resolves.toMatchObject({ success: true });
    await expect(checkDestination({ datadog: { apiKeySecretRef: apiKeySecretRef("eu"), endpoint: eu1Tls.url } }, secrets)).resolves.toMatchObject({ success: false, reason: "TLSError" });
  });

  it("reports a refused connection and a timeout", async () => {
    const port = await closedPort();
    await expect(checkDestination(spec("us", `http://127.0.0.1:${port}`), secrets)).resolves.toMatchObject({ success: false, reason: "Unreachable" });
    await expect(checkDestination({ ...spec("us", blackHole.url.replace("https", "http")), timeout: "1s" }, secrets)).resolves.toMatchObject({ success: false, reason: "Timeout" });
  });
});
