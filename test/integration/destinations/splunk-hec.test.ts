import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startDatadogServer, type DatadogServer } from "../../protocol-servers/datadog-server.ts";
import { testPki } from "../../protocol-servers/pki.ts";
import { startSplunkHecServer, type SplunkHecServer } from "../../protocol-servers/splunk-hec-server.ts";
import { closedPort, startBlackHole, type BlackHole } from "../../protocol-servers/tcp-fixtures.ts";
import { checkDestination } from "./check-helpers.ts";

const pki = testPki();
const goodToken = "11111111-2222-3333-4444-555555555555";
const disabledToken = "99999999-2222-3333-4444-555555555555";
const secrets = { hec: { good: `${goodToken}\n`, disabled: disabledToken, unknown: "00000000-0000-0000-0000-000000000000" }, ca: { "ca.crt": pki.ca.cert.pem } };
const tokenSecretRef = (key: string) => ({ name: "hec", key });

describe("Splunk HEC tester", () => {
  let hec: SplunkHecServer;
  let hecTls: SplunkHecServer;
  let notHec: DatadogServer;
  let blackHole: BlackHole;
  beforeAll(async () => {
    const tokens = { [goodToken]: {}, [disabledToken]: { disabled: true } };
    hec = await startSplunkHecServer({ tokens });
    hecTls = await startSplunkHecServer({ tokens, tls: { cert: pki.server.cert.pem, key: pki.server.key.pem } });
    notHec = await startDatadogServer();
    blackHole = await startBlackHole();
  });
  afterAll(() => Promise.all([hec.close(), hecTls.close(), notHec.close(), blackHole.close()]));
  afterEach(() => {
    hec.unhealthyCode = undefined;
  });
  const spec = (key: string, url = hec.url) => ({ splunkHec: { url, tokenSecretRef: tokenSecretRef(key), allowInsecureHttp: true } });

  it("checks health, then the token with an empty POST, and writes no event", async () => {
    const before = hec.requests.length;
    const result = await checkDestination(spec("good"), secrets);
    expect(result).toMatchObject({ success: true, reason: "Succeeded" });
    expect(result.message).toContain("accepted the token");
    const requests = hec.requests.slice(before);
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual(["GET /services/collector/health", "POST /services/collector/event"]);
    expect(requests[1]!.body.length).toBe(0);
    expect(requests[1]!.headers.authorization).toBe(`Splunk ${goodToken}`);
    expect(requests[1]!.headers["x-splunk-request-channel"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(hec.events).toHaveLength(0);
  });

  it("reports an unknown token (code 4) as InvalidCredentials", async () => {
    const result = await checkDestination(spec("unknown"), secrets);
    expect(result).toMatchObject({ success: false, reason: "InvalidCredentials" });
    expect(result.message).toContain("the HEC token is invalid");
    expect(result.message).not.toContain("00000000-0000");
  });

  it("reports a disabled token (code 1)", async () => {
    const result = await checkDestination(spec("disabled"), secrets);
    expect(result).toMatchObject({ success: false, reason: "InvalidCredentials" });
    expect(result.message).toContain("disabled");
  });

  it("reports an unhealthy collector (codes 18-20) as ServerError", async () => {
    hec.unhealthyCode = 18;
    const result = await checkDestination(spec("good"), secrets);
    expect(result).toMatchObject({ success: false, reason: "ServerError" });
    expect(result.message).toContain("HTTP 503");
  });

  it("reports a URL that is not a HEC as NotFound", async () => {
    await expect(checkDestination(spec("good", notHec.url), secrets)).resolves.toMatchObject({ success: false, reason: "NotFound" });
  });

  it("verifies TLS against the configured CA and fails on an unknown one", async () => {
    const ok = { splunkHec: { url: hecTls.url, tokenSecretRef: tokenSecretRef("good"), tls: { caSecretRef: { name: "ca", key: "ca.crt" } } } };
    await expect(checkDestination(ok, secrets)).resolves.toMatchObject({ success: true });
    await expect(checkDestination({ splunkHec: { url: hecTls.url, tokenSecretRef: tokenSecretRef("good") } }, secrets)).resolves.toMatchObject({ success: false, reason: "TLSError" });
  });

  it("reports a refused connection and a timeout", async () => {
    const port = await closedPort();
    await expect(checkDestination(spec("good", `http://127.0.0.1:${port}`), secrets)).resolves.toMatchObject({ success: false, reason: "Unreachable" });
    await expect(checkDestination({ ...spec("good", blackHole.url.replace("https", "http")), timeout: "1s" }, secrets)).resolves.toMatchObject({ success: false, reason: "Timeout" });
  });
});
