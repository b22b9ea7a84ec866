import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../../core/src/log.ts";
import { apiServerConfigSchema } from "../../../api-server/src/config.ts";
import { startApiServer, type RunningApiServer } from "../../../api-server/src/server.ts";
import { startDatadogServer, type DatadogServer } from "../../protocol-servers/datadog-server.ts";
import { encodeApiKey, startElasticsearchServer, type ElasticsearchServer } from "../../protocol-servers/elasticsearch-server.ts";
import { testPki } from "../../protocol-servers/pki.ts";
import { policies, startS3IamGateway, type S3IamGateway } from "../../protocol-servers/s3-iam-gateway.ts";
import { startS3rver, type LocalS3 } from "../../protocol-servers/s3-server.ts";
import { startSplunkHecServer, type SplunkHecServer } from "../../protocol-servers/splunk-hec-server.ts";
import { closedPort, startBlackHole, type BlackHole } from "../../protocol-servers/tcp-fixtures.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../../protocol-servers/webhook-receiver.ts";
import { call, tenantWithKey, testAdminToken, testSigningKeyFile, type Call } from "../../support/api.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { startRsyslog, type RunningRsyslog } from "../../support/rsyslog.ts";

const pki = testPki();
const hecToken = "7d3c1f0e-5b2a-4c9d-8e7f-6a5b4c3d2e1f";
const datadogKey = "dd0123456789abcdef0123456789abcd";
const esPassword = "es-Pa55word-for-forwarder";
const s3Secret = "s3-secret-Key-0123456789abcdefXYZ";
const webhookSecret = `whsec_${Buffer.alloc(32, "config-test-signing-key").toString("base64")}`;
const esKeyReadOnly = encodeApiKey("ro-id", "ro-secret-value-123");
/** Every secret value sent in this file; none may appear in an answer, a log line or a stored event. */
const secretValues = [hecToken, datadogKey, esPassword, s3Secret, webhookSecret, esKeyReadOnly, "wrong-token-c0ffee", "wrong-dd-key-decaf", "wrong-es-password", "wrong-s3-secret"];

const logLines: string[] = [];
const answers: Call[] = [];
let db: TestDatabase;
let api: RunningApiServer;
let key: string;
let hec: SplunkHecServer;
let hecTls: SplunkHecServer;
let datadog: DatadogServer;
let es: ElasticsearchServer;
let webhook: WebhookReceiver;
let s3: LocalS3;
let gateway: S3IamGateway;
let blackHole: BlackHole;
let rsyslog: RunningRsyslog;

async function startApi(env: Record<string, string>): Promise<RunningApiServer> {
  const config = apiServerConfigSchema.parse({
    PORT: "0", HOST: "127.0.0.1", DATABASE_URL: db.url, TRAILKEEPER_ADMIN_TOKEN: testAdminToken,
    TRAILKEEPER_SIGNING_KEY_FILE: await testSigningKeyFile(db), TRAILKEEPER_HTTP_KEEP_ALIVE_TIMEOUT_MS: "1000", ...env,
  });
  return startApiServer(config, createLogger("debug", {}, (line) => logLines.push(line)));
}

beforeAll(async () => {
  db = await freshDatabase();
  // The local servers listen on loopback, which the API server refuses unless told otherwise, like the operator.
  api = await startApi({ EGRESS_ALLOW_LOOPBACK: "true", TRAILKEEPER_CONFIG_TESTS_PER_MINUTE: "6000", TRAILKEEPER_CONFIG_TEST_BURST: "100" });
  key = await tenantWithKey(api.url, "acme", ["config:test", "events:read"]);
  const tokens = { [hecToken]: {} };
  [hec, hecTls, datadog, es, webhook, s3, blackHole, rsyslog] = await Promise.all([
    startSplunkHecServer({ tokens }),
    startSplunkHecServer({ tokens, tls: { cert: pki.server.cert.pem, key: pki.server.key.pem } }),
    startDatadogServer({ apiKeys: [datadogKey] }),
    startElasticsearchServer(),
    startWebhookReceiver({ secret: webhookSecret }),
    startS3rver(["recordings"]),
    startBlackHole(),
    startRsyslog(),
  ]);
  gateway = await startS3IamGateway({ upstream: s3.endpoint, region: "eu-west-1", keys: { AKIACONFIGTEST: { secretAccessKey: s3Secret, allow: policies.readWrite } } });
  es.users.set("forwarder", { password: esPassword, principal: { username: "forwarder", authenticationType: "realm", indices: [{ names: ["audit"], privileges: ["create_doc", "auto_configure"] }] } });
  es.apiKeys.set(esKeyReadOnly, { username: "key-ro", authenticationType: "api_key", apiKey: { id: "ro-id", name: "ro" }, cluster: ["monitor"], indices: [{ names: ["*"], privileges: ["read"] }] });
});

afterAll(async () => {
  await Promise.all([hec?.close(), hecTls?.close(), datadog?.close(), es?.close(), webhook?.close(), gateway?.close(), blackHole?.close(), rsyslog?.stop()]);
  await s3?.close();
  await api?.close();
  await db?.drop();
});

async function testDestination(body: unknown, token = key): Promise<Call> {
  const res = await call(api.url, "POST", "/v1/destinations/test", { token, body });
  answers.push(res);
  return res;
}

async function testStorage(body: unknown, token = key): Promise<Call> {
  const res = await call(api.url, "POST", "/v1/recording-storages/test", { token, body });
  answers.push(res);
  return res;
}

const stageStatuses = (res: Call) => (res.body.stages as { name: string; status: string }[]).map((s) => `${s.name}:${s.status}`);
const failedStage = (res: Call) => (res.body.stages as { status: string; remedy?: string; detail: string; name: string }[]).find((s) => s.status === "failed")!;

const hecSpec = (url: string, token = "good", extra: object = {}) => ({
  spec: { splunkHec: { url, tokenSecretRef: { name: "hec", key: "token" }, allowInsecureHttp: true, ...extra } },
  secrets: { hec: { token: token === "good" ? hecToken : token } },
});
const webhookSpec = (url: string, extra: object = {}) => ({
  spec: { webhook: { url, signingSecretRef: { name: "wh", key: "secret" }, allowInsecureHttp: true }, ...extra },
  secrets: { wh: { secret: webhookSecret } },
});
const storageSpec = (secret: string, extra: object = {}) => ({
  spec: { bucket: "recordings", endpoint: gateway.endpoint, region: "eu-west-1", forcePathStyle: true, allowInsecureHttp: true, credentialsSecretRef: { name: "s3" }, ...extra },
  secrets: { s3: { AWS_ACCESS_KEY_ID: "AKIACONFIGTEST", AWS_SECRET_ACCESS_KEY: secret } },
});

describe("POST /v1/destinations/test: success for each destination type", () => {
  it("webhook: every stage timed, TLS skipped on plain HTTP, the signed probe accepted", async () => {
    const res = await testDestination(webhookSpec(`${webhook.url}/hooks/audit?token=not-shown`));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true, reason: "Succeeded", target: `${webhook.url}/hooks/audit` });
    expect(stageStatuses(res)).toEqual(["resolve:passed", "connect:passed", "tls:skipped", "authenticate:passed", "probe:passed"]);
    expect(res.body.stages[2].detail).toBe("plain TCP/HTTP");
    for (const s of res.body.stages) expect(s.durationMs).toBeGreaterThanOrEqual(0);
    expect(res.body.durationMs).toBeGreaterThanOrEqual(res.body.stages[4].durationMs);
    expect(webhook.received.length).toBeGreaterThan(0);
  });

  it("Splunk HEC over TLS with the private CA: the handshake is its own stage", async () => {
    const body = hecSpec(hecTls.url, "good", { tls: { caSecretRef: { name: "ca", key: "ca.crt" } } });
    const res = await testDestination({ ...body, secrets: { ...body.secrets, ca: { "ca.crt": pki.ca.cert.pem.toString() } } });
    expect(res.body).toMatchObject({ ok: true, reason: "Succeeded" });
    expect(stageStatuses(res)).toEqual(["resolve:passed", "connect:passed", "tls:passed", "authenticate:passed", "probe:passed"]);
    expect(res.body.stages[2].detail).toMatch(/^TLSv1\.[23] with 127\.0\.0\.1:\d+, certificate verified/);
  });

  it("Datadog, Elasticsearch and syslog over TCP (rsyslog)", async () => {
    const dd = await testDestination({ spec: { datadog: { apiKeySecretRef: { name: "dd", key: "api-key" }, endpoint: datadog.url, allowInsecureHttp: true } }, secrets: { dd: { "api-key": datadogKey } } });
    expect(dd.body).toMatchObject({ ok: true, reason: "Succeeded", target: `${datadog.url}/` });
    const elastic = await testDestination({
      spec: { elasticsearch: { url: es.url, index: "audit", basicAuth: { username: "forwarder", passwordSecretRef: { name: "es", key: "password" } }, allowInsecureHttp: true } },
      secrets: { es: { password: esPassword } },
    });
    expect(elastic.body).toMatchObject({ ok: true, reason: "Succeeded" });
    const syslog = await testDestination({ spec: { syslog: { host: "127.0.0.1", port: rsyslog.tcpPort, transport: "tcp" } } });
    expect(syslog.body).toMatchObject({ ok: true, reason: "Succeeded", target: `tcp://127.0.0.1:${rsyslog.tcpPort}` });
    expect(stageStatuses(syslog)).toEqual(["resolve:passed", "connect:passed", "tls:skipped", "authenticate:skipped", "probe:passed"]);
  });

  it("UDP syslog: connect passes with no handshake, the probe passes as Unverifiable", async () => {
    const res = await testDestination({ spec: { syslog: { host: "localhost", port: 5514, transport: "udp" } } });
    expect(res.body).toMatchObject({ ok: true, reason: "Unverifiable" });
    expect(stageStatuses(res)).toEqual(["resolve:passed", "connect:passed", "tls:skipped", "authenticate:skipped", "probe:passed"]);
    expect(res.body.stages[1].detail).toContain("UDP has no handshake");
    expect(res.body.stages[4].detail).toContain("UDP syslog cannot be verified");
  });
});

describe("POST /v1/destinations/test: each failing stage names a remedy", () => {
  it("resolve: a name that does not resolve", async () => {
    const res = await testDestination(webhookSpec("https://trailkeeper-test.x.invalid/hook"));
    expect(res.body).toMatchObject({ ok: false, reason: "Unreachable" });
    expect(stageStatuses(res)).toEqual(["resolve:failed", "connect:skipped", "tls:skipped", "authenticate:skipped", "probe:skipped"]);
    expect(failedStage(res).detail).toContain("host name not found in DNS");
    expect(failedStage(res).remedy).toContain("does not resolve");
  });

  it("resolve: the cloud metadata address is refused by the egress policy", async () => {
    const res = await testDestination(webhookSpec("http://169.254.169.254/latest/meta-data"));
    expect(res.body).toMatchObject({ ok: false, reason: "AddressNotAllowed" });
    expect(stageStatuses(res)[0]).toBe("resolve:failed");
    expect(failedStage(res).detail).toContain("169.254.169.254 is a cloud metadata address");
    expect(failedStage(res).remedy).toContain("egress policy");
  });

  it("connect: a closed port", async () => {
    const port = await closedPort();
    const res = await testDestination(hecSpec(`http://127.0.0.1:${port}`));
    expect(res.body).toMatchObject({ ok: false, reason: "Unreachable" });
    expect(stageStatuses(res)).toEqual(["resolve:passed", "connect:failed", "tls:skipped", "authenticate:skipped", "probe:skipped"]);
    expect(failedStage(res).detail).toContain("connection refused");
    expect(failedStage(res).remedy).toContain("Nothing accepts connections");
  });

  it("tls: a certificate from a private CA without tls.caSecretRef", async () => {
    const res = await testDestination(hecSpec(hecTls.url));
    expect(res.body).toMatchObject({ ok: false, reason: "TLSError" });
    expect(stageStatuses(res)).toEqual(["resolve:passed", "connect:passed", "tls:failed", "authenticate:skipped", "probe:skipped"]);
    expect(failedStage(res).remedy).toContain("tls.caSecretRef");
  });

  it("authenticate: a wrong HEC token, Datadog key and Elasticsearch password", async () => {
    const hecRes = await testDestination(hecSpec(hec.url, "wrong-token-c0ffee"));
    expect(hecRes.body).toMatchObject({ ok: false, reason: "InvalidCredentials" });
    expect(stageStatuses(hecRes)).toEqual(["resolve:passed", "connect:passed", "tls:skipped", "authenticate:failed", "probe:skipped"]);
    expect(failedStage(hecRes).remedy).toBe("The token was refused: check the HEC token, and that the token is enabled (Settings → Data inputs → HTTP Event Collector).");

    const dd = await testDestination({ spec: { datadog: { apiKeySecretRef: { name: "dd", key: "api-key" }, endpoint: datadog.url, allowInsecureHttp: true } }, secrets: { dd: { "api-key": "wrong-dd-key-decaf" } } });
    expect(dd.body).toMatchObject({ ok: false, reason: "InvalidCredentials" });
    expect(failedStage(dd)).toMatchObject({ name: "authenticate", remedy: expect.stringContaining("spec.datadog.site") });

    const elastic = await testDestination({
      spec: { elasticsearch: { url: es.url, index: "audit", basicAuth: { username: "forwarder", passwordSecretRef: { name: "es", key: "password" } }, allowInsecureHttp: true } },
      secrets: { es: { password: "wrong-es-password" } },
    });
    expect(elastic.body).toMatchObject({ ok: false, reason: "InvalidCredentials" });
    expect(failedStage(elastic)).toMatchObject({ name: "authenticate", remedy: expect.stringContaining("user name and password") });
  });

  it("probe: an Elasticsearch key that may not write the index", async () => {
    const res = await testDestination({ spec: { elasticsearch: { url: es.url, index: "audit", apiKeySecretRef: { name: "es", key: "api-key" }, allowInsecureHttp: true } }, secrets: { es: { "api-key": esKeyReadOnly } } });
    expect(res.body).toMatchObject({ ok: false, reason: "PermissionDenied" });
    expect(stageStatuses(res)).toEqual(["resolve:passed", "connect:passed", "tls:skipped", "authenticate:passed", "probe:failed"]);
    expect(failedStage(res).remedy).toContain("grant create_doc");
  });

  it("probe: a server that never answers, within spec.timeout", async () => {
    const started = Date.now();
    const res = await testDestination(webhookSpec(`http://127.0.0.1:${blackHole.port}/`, { timeout: "1s" }));
    expect(res.body).toMatchObject({ ok: false, reason: "Timeout" });
    expect(stageStatuses(res)).toEqual(["resolve:passed", "connect:passed", "tls:skipped", "authenticate:skipped", "probe:failed"]);
    expect(failedStage(res).remedy).toContain("spec.timeout");
    expect(res.body.durationMs).toBeLessThan(2000);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("a secret the peer echoes is redacted from the message and the stages", async () => {
    hec.answerNext({ status: 400, body: { text: `token ${hecToken} is not welcome here`, code: 99 } });
    const res = await testDestination(hecSpec(hec.url));
    expect(res.body.ok).toBe(false);
    expect(res.body.message).toContain("token [redacted] is not welcome");
    expect(JSON.stringify(res.body)).not.toContain(hecToken);
  });
});

describe("POST /v1/recording-storages/test (s3rver behind a SigV4-checking gateway)", () => {
  it("passes with the right key pair", async () => {
    const res = await testStorage(storageSpec(s3Secret));
    expect(res.body).toMatchObject({ ok: true, reason: "Succeeded", target: `${gateway.endpoint}/recordings` });
    expect(stageStatuses(res)).toEqual(["resolve:passed", "connect:passed", "tls:skipped", "authenticate:passed", "probe:passed"]);
  });

  it("authenticate: a wrong secret key fails the signature", async () => {
    const res = await testStorage(storageSpec("wrong-s3-secret"));
    expect(res.body).toMatchObject({ ok: false, reason: "InvalidCredentials" });
    expect(failedStage(res)).toMatchObject({ name: "authenticate", detail: expect.stringContaining("SignatureDoesNotMatch") });
    expect(failedStage(res).remedy).toContain("secret access key");
  });

  it("probe: no such bucket", async () => {
    const res = await testStorage(storageSpec(s3Secret, { bucket: "no-such-bucket" }));
    expect(res.body).toMatchObject({ ok: false, reason: "NotFound" });
    expect(failedStage(res)).toMatchObject({ name: "probe", remedy: expect.stringContaining("forcePathStyle") });
  });
});

describe("POST /v1/destinations/test: refusals", () => {
  it("400 invalid_request with field paths for a spec the CRD rejects", async () => {
    const res = await testDestination({ spec: { webhook: { url: "ftp://example.com/x", signingSecretRef: { name: "wh", key: "secret" } }, timeout: "5 minutes" } });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    expect(res.body.code).toBe("invalid_request");
    const paths = (res.body.errors as { path: string }[]).map((e) => e.path);
    expect(paths).toContain("spec.webhook.url");
    expect(paths).toContain("spec.timeout");
  });

  it("400 missing_secret naming each reference without a value; a refused request records nothing", async () => {
    const recorded = async () => (await db.pool.query("SELECT count(*)::int AS n FROM events WHERE action LIKE 'audit.%.test'")).rows[0].n as number;
    const before = await recorded();
    const res = await testDestination({ spec: hecSpec(hec.url).spec, secrets: { other: { token: "x" } } });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: "missing_secret", errors: [{ path: "secrets.hec.token" }] });
    expect(res.body.detail).toContain("hec/token");
    const storage = await testStorage({ spec: storageSpec(s3Secret).spec });
    expect(storage.body.errors.map((e: { path: string }) => e.path)).toEqual(["secrets.s3.AWS_ACCESS_KEY_ID", "secrets.s3.AWS_SECRET_ACCESS_KEY"]);
    expect(await recorded()).toBe(before);
  });

  it("403 without the config:test scope, 401 without a key", async () => {
    const reader = await tenantWithKey(api.url, "acme", ["config:read"]);
    const res = await testDestination(webhookSpec(webhook.url), reader);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe("missing_scope");
    expect((await call(api.url, "POST", "/v1/destinations/test", { body: webhookSpec(webhook.url) })).status).toBe(401);
  });

  it("a console session with config:test may test, with its x-csrf-token", async () => {
    const signIn = await call(api.url, "POST", "/v1/console/sessions", { body: { apiKey: key } });
    expect(signIn.status).toBe(201);
    const cookie = signIn.headers.get("set-cookie")!.split(";")[0]!;
    const post = (headers: Record<string, string>) =>
      fetch(`${api.url}/v1/destinations/test`, { method: "POST", headers: { cookie, "content-type": "application/json", ...headers }, body: JSON.stringify(webhookSpec(webhook.url)) });
    expect((await post({})).status).toBe(403);
    const res = await post({ "x-csrf-token": signIn.body.csrfToken });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true });
  });

  it("429 rate_limited with Retry-After past the tenant's burst (defaults: 10 a minute, burst 3)", async () => {
    const limited = await startApi({ EGRESS_ALLOW_LOOPBACK: "true" });
    try {
      const other = await tenantWithKey(limited.url, "limited", ["config:test"]);
      const body = webhookSpec(webhook.url);
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await call(limited.url, "POST", "/v1/destinations/test", { token: other, body })).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const res = await call(limited.url, "POST", "/v1/destinations/test", { token: other, body });
      expect(res.body.code).toBe("rate_limited");
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      // Another tenant has its own bucket.
      expect((await call(limited.url, "POST", "/v1/destinations/test", { token: key, body })).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it("refuses loopback by default, like the operator", async () => {
    const strict = await startApi({});
    try {
      const res = await call(strict.url, "POST", "/v1/destinations/test", { token: key, body: webhookSpec(webhook.url) });
      expect(res.body).toMatchObject({ ok: false, reason: "AddressNotAllowed" });
    } finally {
      await strict.close();
    }
  });
});

describe("records and secrecy", () => {
  it("records each test in the tenant's chain as audit.destination.test / audit.recording_storage.test", async () => {
    const destination = await call(api.url, "GET", "/v1/events?action=audit.destination.test&limit=200", { token: key });
    expect(destination.status).toBe(200);
    const tcp = destination.body.events.find((e: { details: { type: string; reason: string } }) => e.details.type === "syslog" && e.details.reason === "Succeeded");
    expect(tcp).toMatchObject({ outcome: "success", resource: { type: "log_forwarding_destination" }, details: { type: "syslog", reason: "Succeeded" } });
    const refused = destination.body.events.find((e: { details: { reason: string } }) => e.details.reason === "InvalidCredentials");
    expect(refused).toMatchObject({ outcome: "failure", details: { failedStage: "authenticate" } });
    const storage = await call(api.url, "GET", "/v1/events?action=audit.recording_storage.test", { token: key });
    expect(storage.body.events.length).toBeGreaterThanOrEqual(3);
  });

  it("no secret value appears in any answer, log line or stored event", async () => {
    const stored = await db.pool.query<{ row: string }>("SELECT to_jsonb(e)::text AS row FROM events e");
    const haystacks = { answers: answers.map((a) => JSON.stringify(a.body)).join("\n"), logs: logLines.join(""), events: stored.rows.map((r) => r.row).join("\n") };
    expect(logLines.some((l) => l.includes('"msg":"configuration test"'))).toBe(true);
    for (const [where, text] of Object.entries(haystacks)) {
      for (const secret of secretValues) expect(text.includes(secret), `${secret} in ${where}`).toBe(false);
    }
  });
});
