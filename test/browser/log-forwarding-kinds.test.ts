/**
 * The New form of the Datadog, Elasticsearch and syslog destinations in Debian's chromium, each filled by label and
 * tested against a real local server (the Datadog and Elasticsearch protocol servers, rsyslog over TCP), and a Test
 * refused by the per-tenant rate limit shown with the server's 429 rate_limited problem. The limit here is one test
 * a minute per tenant, so each case signs in as its own tenant.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDatadogServer, type DatadogServer } from "../protocol-servers/datadog-server.ts";
import { startElasticsearchServer, type ElasticsearchServer } from "../protocol-servers/elasticsearch-server.ts";
import { closedPort } from "../protocol-servers/tcp-fixtures.ts";
import { newPage, seededTenant, signInWithKey, startConsoleEnv, type ConsoleEnv } from "../support/browser.ts";
import { configScopes, shownStages } from "../support/config-console.ts";
import { startRsyslog, type RunningRsyslog } from "../support/rsyslog.ts";

const datadogKey = "0123456789abcdef0123456789abcdef";
const esPassword = "es-Pa55word-for-the-console";

let env: ConsoleEnv;
let datadog: DatadogServer;
let es: ElasticsearchServer;
let rsyslog: RunningRsyslog;

beforeAll(async () => {
  // Loopback is refused unless allowed, like the operator; one test a minute per tenant makes the second a 429.
  env = await startConsoleEnv({ EGRESS_ALLOW_LOOPBACK: "true", TRAILKEEPER_CONFIG_TESTS_PER_MINUTE: "1", TRAILKEEPER_CONFIG_TEST_BURST: "1" });
  [datadog, es, rsyslog] = await Promise.all([startDatadogServer({ apiKeys: [datadogKey] }), startElasticsearchServer(), startRsyslog()]);
  es.users.set("forwarder", { password: esPassword, principal: { username: "forwarder", authenticationType: "realm", indices: [{ names: ["audit"], privileges: ["create_doc", "auto_configure"] }] } });
}, 120_000);
afterAll(async () => {
  await Promise.all([datadog?.close(), es?.close(), rsyslog?.stop()]);
  await env?.close();
});

/** A new destination of `type` for `tenant`'s own session, with namespace and name filled in. */
async function newForm(tenant: string, type: string): Promise<Page> {
  const { reader } = await seededTenant(env.base, tenant, configScopes);
  const { page } = await newPage(env);
  await signInWithKey(page, reader);
  await page.goto("/log-forwarding/new");
  await page.getByRole("radio", { name: type }).check();
  await page.getByLabel("Namespace", { exact: true }).fill(tenant);
  await page.getByLabel("Name", { exact: true }).fill("siem");
  return page;
}

async function testPasses(page: Page): Promise<string[]> {
  await page.getByRole("button", { name: "Test", exact: true }).click();
  const stages = (await shownStages(page)).map((s) => `${s.name}:${s.status}`);
  await page.getByText("Test passed").waitFor();
  return stages;
}

describe("the New form of each remaining destination type", () => {
  it("Datadog: the key reaches the intake as DD-API-KEY and the test passes", async () => {
    const page = await newForm("dd-tenant", "Datadog");
    await page.getByLabel("API key", { exact: true }).fill(datadogKey);
    await page.getByLabel("Endpoint (optional)").fill(datadog.url);
    await page.getByLabel("Tags").fill("env:test team:sec");
    await page.getByLabel("Allow plain http://").check();
    expect(await testPasses(page)).toEqual(["resolve:passed", "connect:passed", "tls:skipped", "authenticate:passed", "probe:passed"]);
    expect(datadog.requests.some((r) => r.headers["dd-api-key"] === datadogKey)).toBe(true);
    await page.context().close();
  });

  it("Elasticsearch: basic authentication as a user allowed to write the index", async () => {
    const page = await newForm("es-tenant", "Elasticsearch");
    await page.getByLabel("URL", { exact: true }).fill(es.url);
    await page.getByLabel("Index", { exact: true }).fill("audit");
    await page.getByLabel("Authentication").selectOption("basic");
    await page.getByLabel("User name").fill("forwarder");
    await page.getByLabel("Password", { exact: true }).fill(esPassword);
    await page.getByLabel("Allow plain http://").check();
    expect(await testPasses(page)).toEqual(["resolve:passed", "connect:passed", "tls:skipped", "authenticate:passed", "probe:passed"]);
    const basic = `Basic ${Buffer.from(`forwarder:${esPassword}`).toString("base64")}`;
    expect(es.requests.some((r) => r.headers.authorization === basic)).toBe(true);
    await page.context().close();
  });

  it("syslog over TCP to rsyslog", async () => {
    const page = await newForm("syslog-tenant", "Syslog");
    await page.getByLabel("Host", { exact: true }).fill("127.0.0.1");
    await page.getByLabel("Transport").selectOption("tcp");
    await page.getByLabel("Port", { exact: true }).fill(String(rsyslog.tcpPort));
    expect(await page.getByLabel("Skip TLS certificate verification").count()).toBe(0);
    expect(await testPasses(page)).toEqual(["resolve:passed", "connect:passed", "tls:skipped", "authenticate:skipped", "probe:passed"]);
    await page.context().close();
  });
});

describe("the per-tenant limit on tests", () => {
  it("shows a refused Test as the server's 429 rate_limited problem, with when to retry", async () => {
    const page = await newForm("busy-tenant", "Webhook");
    await page.getByLabel("URL", { exact: true }).fill(`http://127.0.0.1:${await closedPort()}/hook`);
    await page.getByLabel("Signing secret").fill(`whsec_${Buffer.alloc(32, "rate-limit").toString("base64")}`);
    await page.getByLabel("Allow plain http://").check();
    await page.getByRole("button", { name: "Test", exact: true }).click();
    await page.getByText("Test failed").waitFor();
    await page.getByRole("button", { name: "Test", exact: true }).click();
    const alert = page.getByRole("alert");
    await alert.getByText("The test could not run (429 rate_limited)").waitFor();
    expect(await alert.innerText()).toMatch(/at most 1 tests per minute \(bursts of 1\) per tenant; retry in \d+ s/);
    await page.context().close();
  });
});
