import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeApiKey, startElasticsearchServer, type ElasticsearchServer } from "../../protocol-servers/elasticsearch-server.ts";
import { testPki } from "../../protocol-servers/pki.ts";
import { closedPort, startBlackHole, type BlackHole } from "../../protocol-servers/tcp-fixtures.ts";
import { checkDestination } from "./check-helpers.ts";

const pki = testPki();
const keys = {
  full: encodeApiKey("full-id", "full-secret"),
  writeOnly: encodeApiKey("wo-id", "wo-secret"),
  noAutoCreate: encodeApiKey("nac-id", "nac-secret"),
  readOnly: encodeApiKey("ro-id", "ro-secret"),
  unknown: encodeApiKey("nope", "nope"),
};
const secrets = { es: { ...keys, password: "s3cret-pass", wrong: "wrong-pass" }, ca: { "ca.crt": pki.ca.cert.pem } };
const apiKeySecretRef = (key: keyof typeof keys) => ({ name: "es", key });
const dataStream = "logs-trailkeeper.audit-default";

function addPrincipals(es: ElasticsearchServer): void {
  const apiKey = (id: string, indices: { names: string[]; privileges: string[] }[], cluster: string[] = []) => ({ username: `key-${id}`, authenticationType: "api_key" as const, apiKey: { id, name: id }, cluster, indices });
  es.apiKeys.set(keys.full, apiKey("full", [{ names: ["logs-trailkeeper*", "audit"], privileges: ["create_doc", "auto_configure"] }], ["monitor"]));
  es.apiKeys.set(keys.writeOnly, apiKey("wo", [{ names: ["logs-*"], privileges: ["write", "create_index"] }]));
  es.apiKeys.set(keys.noAutoCreate, apiKey("nac", [{ names: ["audit"], privileges: ["create"] }]));
  es.apiKeys.set(keys.readOnly, apiKey("ro", [{ names: ["*"], privileges: ["read"] }], ["monitor"]));
  es.users.set("forwarder", { password: "s3cret-pass", principal: { username: "forwarder", roles: ["audit_writer"], authenticationType: "realm", indices: [{ names: ["audit"], privileges: ["index", "manage"] }] } });
}

describe("Elasticsearch tester", () => {
  let es: ElasticsearchServer;
  let esTls: ElasticsearchServer;
  let blackHole: BlackHole;
  beforeAll(async () => {
    es = await startElasticsearchServer();
    esTls = await startElasticsearchServer({ tls: { cert: pki.server.cert.pem, key: pki.server.key.pem } });
    addPrincipals(es);
    addPrincipals(esTls);
    blackHole = await startBlackHole();
  });
  afterAll(() => Promise.all([es.close(), esTls.close(), blackHole.close()]));
  const spec = (target: object, auth: object, url = es.url) => ({ elasticsearch: { url, ...target, ...auth, allowInsecureHttp: true } });

  it("authenticates and finds create_doc and auto_configure on the data stream", async () => {
    const before = es.requests.length;
    const result = await checkDestination(spec({ dataStream }, { apiKeySecretRef: apiKeySecretRef("full") }), secrets);
    expect(result).toMatchObject({ success: true, reason: "Succeeded" });
    expect(result.message).toBe(`Elasticsearch 8.15.0; authenticated as key-full; may write to data stream ${dataStream}`);
    expect(es.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual(["GET /", "GET /_security/_authenticate", "POST /_security/user/_has_privileges"]);
    expect(es.requests.at(-1)!.headers.authorization).toBe(`ApiKey ${keys.full}`);
  });

  it("does not fail on a 403 from GET / (no monitor privilege)", async () => {
    const result = await checkDestination(spec({ dataStream }, { apiKeySecretRef: apiKeySecretRef("writeOnly") }), secrets);
    expect(result).toMatchObject({ success: true, reason: "Succeeded" });
    expect(result.message).toContain("without the monitor privilege");
  });

  it("passes without auto_configure but says the target must exist", async () => {
    const result = await checkDestination(spec({ index: "audit" }, { apiKeySecretRef: apiKeySecretRef("noAutoCreate") }), secrets);
    expect(result).toMatchObject({ success: true });
    expect(result.message).toContain("cannot create index audit (no auto_configure), so it must already exist");
  });

  it("reports a missing write privilege as PermissionDenied", async () => {
    const result = await checkDestination(spec({ index: "audit" }, { apiKeySecretRef: apiKeySecretRef("readOnly") }), secrets);
    expect(result).toMatchObject({ success: false, reason: "PermissionDenied" });
    expect(result.message).toContain("lacks the create_doc privilege on index audit");
  });

  it("reports an unknown API key as InvalidCredentials", async () => {
    const result = await checkDestination(spec({ index: "audit" }, { apiKeySecretRef: apiKeySecretRef("unknown") }), secrets);
    expect(result).toMatchObject({ success: false, reason: "InvalidCredentials" });
    expect(result.message).toContain("unable to authenticate");
  });

  it("supports basic authentication", async () => {
    const basicAuth = (key: string) => ({ basicAuth: { username: "forwarder", passwordSecretRef: { name: "es", key } } });
    await expect(checkDestination(spec({ index: "audit" }, basicAuth("password")), secrets)).resolves.toMatchObject({ success: true });
    await expect(checkDestination(spec({ index: "audit" }, basicAuth("wrong")), secrets)).resolves.toMatchObject({ success: false, reason: "InvalidCredentials" });
  });

  it("verifies TLS against the configured CA and fails on an unknown one", async () => {
    const auth = { apiKeySecretRef: apiKeySecretRef("full") };
    await expect(checkDestination({ elasticsearch: { url: esTls.url, dataStream, ...auth, tls: { caSecretRef: { name: "ca", key: "ca.crt" } } } }, secrets)).resolves.toMatchObject({ success: true });
    await expect(checkDestination({ elasticsearch: { url: esTls.url, dataStream, ...auth } }, secrets)).resolves.toMatchObject({ success: false, reason: "TLSError" });
  });

  it("reports a refused connection and a timeout", async () => {
    const auth = { apiKeySecretRef: apiKeySecretRef("full") };
    const port = await closedPort();
    await expect(checkDestination(spec({ dataStream }, auth, `http://127.0.0.1:${port}`), secrets)).resolves.toMatchObject({ success: false, reason: "Unreachable" });
    await expect(checkDestination({ ...spec({ dataStream }, auth, blackHole.url.replace("https", "http")), timeout: "1s" }, secrets)).resolves.toMatchObject({ success: false, reason: "Timeout" });
  });
});
