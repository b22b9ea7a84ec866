/**
 * Log Forwarding in Debian's chromium against the real API server: the list (mirror rows written through core's
 * upsertMirror, as the operator writes them) refreshing in place, a destination's page with its dead letters, the
 * New form's CRD validation, Test against real local protocol servers (success and each failing stage), Save as a
 * manifest, a GitOps-managed destination shown read-only, and axe-core with screenshots for docs/console.md.
 * Save, toggle and replay through Kubernetes are in log-forwarding-kube.test.ts.
 */
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadAll } from "js-yaml";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { logForwardingDestinationSpecSchema } from "../../core/src/crd/log-forwarding-destination.ts";
import { testPki } from "../protocol-servers/pki.ts";
import { startSplunkHecServer, type SplunkHecServer } from "../protocol-servers/splunk-hec-server.ts";
import { closedPort } from "../protocol-servers/tcp-fixtures.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../protocol-servers/webhook-receiver.ts";
import { axeScan, newPage, seededTenant, seriousOrWorse, signInWithKey, startConsoleEnv, type ConsoleEnv } from "../support/browser.ts";
import { addDeadLetters, addDeliveryHistory, configScopes, fullScreenshot, destinationRow, mirror, shownStages } from "../support/config-console.ts";

const shotDir = process.env.TRAILKEEPER_SCREENSHOTS === "1" ? path.resolve(import.meta.dirname, "../../docs/console") : mkdtempSync(path.join(tmpdir(), "tk-shots-"));
const webhookSecret = `whsec_${Buffer.alloc(32, "console-browser-test").toString("base64")}`;
const hecToken = "0f8b3c52-6a1d-4e2f-9b7c-5d4e3f2a1b0c";

let env: ConsoleEnv;
let keys: { writer: string; reader: string };
let webhook: WebhookReceiver;
let webhookTls: WebhookReceiver;
let hec: SplunkHecServer;
const siem = destinationRow("acme", "acme-prod", "siem");
const rejecting = destinationRow("acme", "acme-prod", "rejecting", {
  type: "splunkHec", format: "cef", endpoint: "https://splunk.example.com:8088/",
  conditions: [
    { type: "Ready", status: "True", reason: "Succeeded", message: "HEC health answered 200", lastTransitionTime: "2026-12-06T08:00:00Z" },
    { type: "Delivering", status: "False", reason: "EventsRejected", message: "every event of the last 3 batches was dead-lettered", lastTransitionTime: "2026-12-06T09:00:00Z" },
  ],
  delivery: { delivered: 4, failed: 0, deadLettered: 25, lagEvents: 0, lastDeliveredAt: "2026-12-06T08:30:00Z", lastError: "dead-lettered seq 25: HTTP 400 Incorrect index" },
  lastError: "dead-lettered seq 25: HTTP 400 Incorrect index",
});
const gitops = destinationRow("acme", "acme-gitops", "argo", { managedBy: { tool: "argocd", reason: "label argocd.argoproj.io/instance=audit" } });

beforeAll(async () => {
  // The protocol servers listen on loopback, which the API server refuses unless told otherwise, like the operator.
  env = await startConsoleEnv({ EGRESS_ALLOW_LOOPBACK: "true", TRAILKEEPER_CONFIG_TESTS_PER_MINUTE: "6000", TRAILKEEPER_CONFIG_TEST_BURST: "100" });
  keys = await seededTenant(env.base, "acme", configScopes);
  const pki = testPki();
  [webhook, webhookTls, hec] = await Promise.all([
    startWebhookReceiver({ secret: webhookSecret }),
    startWebhookReceiver({ secret: webhookSecret, tls: { cert: pki.server.cert.pem, key: pki.server.key.pem } }),
    startSplunkHecServer({ tokens: { [hecToken]: {} } }),
  ]);
  for (const row of [siem, rejecting, gitops, destinationRow("globex", "globex", "theirs")]) await mirror(env.db.pool, row);
  await addDeadLetters(env.db.pool, rejecting, 25, (seq) => `HTTP 400 Incorrect index (seq ${seq})`);
  // Two hours of history: delivering until the index was renamed, then every event dead-lettered.
  await addDeliveryHistory(env.db.pool, rejecting, Array.from({ length: 12 }, (_, i) => ({ minutesAgo: 120 - i * 10, delivered: Math.min(i, 4), failed: i > 4 ? 2 : 0, deadLettered: Math.max(0, (i - 4) * 3) })));
});
afterAll(async () => {
  await Promise.all([webhook?.close(), webhookTls?.close(), hec?.close()]);
  await env?.close();
});

async function signedIn(opts: Parameters<typeof newPage>[1] = {}): Promise<Page> {
  const { page } = await newPage(env, opts);
  await signInWithKey(page, keys.reader);
  return page;
}

/** Fills the New form for a webhook (or the type given) the way a person does, by label. */
async function fillNew(page: Page, f: { type?: string; name?: string; url: string; secretLabel?: string; secret: string; insecure?: boolean }) {
  await page.goto("/log-forwarding/new");
  if (f.type) await page.getByRole("radio", { name: f.type }).check();
  await page.getByLabel("Namespace", { exact: true }).fill("acme-prod");
  await page.getByLabel("Name", { exact: true }).fill(f.name ?? "siem-new");
  await page.getByLabel("URL", { exact: true }).fill(f.url);
  await page.getByLabel(f.secretLabel ?? "Signing secret", { exact: true }).fill(f.secret);
  if (f.insecure) await page.getByLabel("Allow plain http://").check();
}

async function runTest(page: Page) {
  await page.getByRole("button", { name: "Test", exact: true }).click();
  return shownStages(page);
}

const statuses = (stages: { name: string; status: string }[]) => stages.map((s) => `${s.name}:${s.status}`);

describe("the list", () => {
  it("shows the tenant's destinations with their statistics and refreshes in place, keeping focus", async () => {
    const page = await signedIn();
    await page.getByRole("link", { name: "Log Forwarding" }).click();
    const row = page.getByRole("row", { name: /acme-prod\/siem/ });
    await row.waitFor();
    expect(await row.getByRole("cell").allInnerTexts()).toEqual(["Webhook", "native", "Yes", "True", "True", "10", "0", "0", "0", expect.stringMatching(/^\d{4}-\d\d-\d\d /)]);
    expect(await page.getByRole("row", { name: /acme-prod\/rejecting/ }).getByRole("cell").nth(4).innerText()).toBe("False · EventsRejected");
    expect(await page.getByText("globex/theirs").count()).toBe(0);

    const newLink = page.getByRole("link", { name: "New destination" });
    await newLink.focus();
    await page.evaluate(`globalThis.__table = document.querySelector("table")`);
    await mirror(env.db.pool, { ...siem, delivery: { ...(siem.delivery as object), delivered: 4321, lagEvents: 7 } });
    await row.getByRole("cell", { name: "4,321" }).waitFor({ timeout: 15_000 });
    expect(await row.getByRole("cell").nth(8).innerText()).toBe("7");
    // Refreshed in place: the same table element, and focus where the user left it.
    expect(await page.evaluate(`globalThis.__table === document.querySelector("table") && globalThis.__table.isConnected`)).toBe(true);
    expect(await page.evaluate("document.activeElement.textContent")).toBe("New destination");
    await page.context().close();
  });

  it("stops refreshing while the tab is hidden and refreshes at once when it is shown again", async () => {
    const { page } = await newPage(env);
    await page.clock.install();
    await signInWithKey(page, keys.reader);
    await page.goto("/log-forwarding");
    await page.getByRole("row", { name: /acme-prod\/siem/ }).waitFor();
    const asked: string[] = [];
    page.on("request", (r) => r.url().endsWith("/v1/destinations") && asked.push(r.url()));
    await page.clock.runFor(5_500);
    await expect.poll(() => asked.length).toBe(1);
    await page.evaluate(`Object.defineProperty(document, "hidden", { configurable: true, get: () => true }); document.dispatchEvent(new Event("visibilitychange"))`);
    await page.clock.runFor(60_000);
    expect(asked.length).toBe(1);
    await page.evaluate(`Object.defineProperty(document, "hidden", { configurable: true, get: () => false }); document.dispatchEvent(new Event("visibilitychange"))`);
    await expect.poll(() => asked.length).toBe(2);
    await page.context().close();
  });

  it("is not offered to a session without config:read", async () => {
    const { page } = await newPage(env);
    const { reader } = await seededTenant(env.base, "initech", ["events:read"]);
    await signInWithKey(page, reader);
    expect(await page.getByRole("link", { name: "Log Forwarding" }).count()).toBe(0);
    expect(await page.getByRole("link", { name: "Recording Storage" }).count()).toBe(0);
    await page.goto("/log-forwarding");
    await page.getByRole("heading", { name: "Audit Logs" }).waitFor();
    await page.context().close();
  });
});

describe("a destination's page", () => {
  it("shows conditions, last error, delivery and dead letters with reasons, paged", async () => {
    const page = await signedIn();
    await page.goto("/log-forwarding");
    await page.getByRole("link", { name: "acme-prod/rejecting" }).click();
    await page.getByRole("heading", { name: "acme-prod/rejecting" }).waitFor();
    const delivering = page.getByRole("row", { name: /^Delivering/ });
    expect(await delivering.getByRole("cell").allInnerTexts()).toEqual(["False", "EventsRejected", "every event of the last 3 batches was dead-lettered", expect.stringMatching(/^2026-12-06 /)]);
    await page.getByText("dead-lettered seq 25: HTTP 400 Incorrect index").waitFor();
    // The chart draws the server's history (12 samples written above, then the mirror's own sample).
    const chart = page.getByRole("img", { name: /^Delivery counters over time\. 13 samples; latest: 4 delivered, 0 failed, 25 dead-lettered$/ });
    await chart.waitFor();
    expect(await chart.locator("path").count()).toBe(3);
    await page.getByText("Last 24 hours, from the server's delivery history.").waitFor();
    const dead = page.getByRole("table", { name: "Dead letters" });
    await dead.getByRole("cell", { name: "HTTP 400 Incorrect index (seq 25)" }).waitFor();
    expect(await dead.getByRole("row").count()).toBe(1 + 20);
    await page.getByRole("button", { name: "Load more dead letters" }).click();
    await dead.getByRole("cell", { name: "HTTP 400 Incorrect index (seq 1)", exact: true }).waitFor();
    expect(await dead.getByRole("row").count()).toBe(1 + 25);
    expect(await page.getByRole("button", { name: "Load more dead letters" }).count()).toBe(0);
    // Without Kubernetes access the actions are kubectl commands.
    await page.getByLabel("kubectl commands").getByText("kubectl annotate -n acme-prod lfd/rejecting --overwrite trailkeeper.dev/replay-from=").waitFor();
    await page.context().close();
  });

  it("answers an unknown destination with the server's problem", async () => {
    const page = await signedIn();
    await page.goto("/log-forwarding/acme-prod/nope");
    await page.getByRole("alert").getByText("No such destination (404 unknown_destination)").waitFor();
    await page.context().close();
  });

  it("shows a GitOps-managed destination read-only, with the reason", async () => {
    const page = await signedIn();
    await page.goto("/log-forwarding/acme-gitops/argo");
    await page.getByText("Read-only: managed by Argo CD (label argocd.argoproj.io/instance=audit).").waitFor();
    expect(await page.getByRole("link", { name: "Edit" }).count()).toBe(0);
    expect(await page.getByRole("heading", { name: "Actions" }).count()).toBe(0);
    await page.goto("/log-forwarding/acme-gitops/argo/edit");
    await page.getByText("Read-only: managed by GitOps (label argocd.argoproj.io/instance=audit)").waitFor();
    expect(await page.getByRole("button", { name: /Save/ }).count()).toBe(0);
    await page.context().close();
  });
});

/** Presses Tab until the focused element's accessible text is `name` (a keyboard user's way there). */
async function tabTo(page: Page, name: string): Promise<void> {
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press("Tab");
    const text = (await page.evaluate(`(() => { const e = document.activeElement; return (e.getAttribute("aria-label") || (e.labels && e.labels[0] ? e.labels[0].textContent : e.textContent) || "").trim(); })()`)) as string;
    if (text === name) return;
  }
  throw new Error(`Tab never reached ${name}`);
}

describe("keyboard only", () => {
  it("opens a destination, pages its dead letters, and tests a new destination without a mouse", async () => {
    const page = await signedIn();
    await page.goto("/log-forwarding");
    await page.getByRole("row", { name: /acme-prod\/rejecting/ }).waitFor();
    await tabTo(page, "acme-prod/rejecting");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "acme-prod/rejecting" }).waitFor();
    await page.getByRole("cell", { name: "HTTP 400 Incorrect index (seq 25)" }).waitFor();
    await tabTo(page, "Load more dead letters");
    await page.keyboard.press("Enter");
    await page.getByRole("cell", { name: "HTTP 400 Incorrect index (seq 1)", exact: true }).waitFor();

    await page.goto("/log-forwarding/new");
    await page.getByRole("heading", { name: "New destination" }).waitFor();
    await tabTo(page, "Namespace");
    await page.keyboard.type("acme-prod");
    await page.keyboard.press("Tab");
    await page.keyboard.type("keyboard");
    await tabTo(page, "URL");
    await page.keyboard.type(`${webhook.url}/k`);
    await page.keyboard.press("Tab");
    await page.keyboard.type(webhookSecret);
    await tabTo(page, "Allow plain http://");
    await page.keyboard.press("Space");
    await tabTo(page, "Test");
    await page.keyboard.press("Enter");
    await page.getByText("Test passed").waitFor();
    await page.context().close();
  });
});

describe("the New form", () => {
  it("appears once, when the server has said how it saves, so nothing typed is lost to a second mount", async () => {
    const page = await signedIn();
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    await page.route("**/v1/config/capabilities", async (route) => {
      await answered;
      await route.continue();
    });
    // Counts every time the Namespace field is put into the document, however briefly.
    await page.addInitScript(`window.mounts = 0; new MutationObserver((records) => { for (const r of records) for (const n of r.addedNodes) if (n instanceof Element && (n.id === "f-_namespace" || n.querySelector("#f-_namespace"))) window.mounts++; }).observe(document, { childList: true, subtree: true });`);
    await page.goto("/log-forwarding/new");
    await page.getByRole("status").getByText("Loading…").waitFor();
    expect(await page.evaluate("window.mounts")).toBe(0);
    answer();
    await page.getByLabel("Namespace", { exact: true }).fill("acme-prod");
    await page.getByLabel("Name", { exact: true }).fill("typed-early");
    expect(await page.getByLabel("Namespace", { exact: true }).inputValue()).toBe("acme-prod");
    expect(await page.evaluate("window.mounts")).toBe(1);
    await page.context().close();
  });

  it("validates with the CRD's rules per field, focuses the first problem and sends nothing", async () => {
    const page = await signedIn();
    const sent: string[] = [];
    page.on("request", (r) => r.method() !== "GET" && sent.push(`${r.method()} ${new URL(r.url()).pathname}`));
    await fillNew(page, { url: "http://siem.example.com/audit", secret: "whsec_x" });
    await page.getByLabel("Timeout").fill("ten seconds");
    await page.getByRole("button", { name: "Test", exact: true }).click();
    const url = page.getByLabel("URL", { exact: true });
    await page.getByText("url must use https:// (set allowInsecureHttp: true to allow plain http)").waitFor();
    expect(await url.getAttribute("aria-invalid")).toBe("true");
    const described = (await url.getAttribute("aria-describedby"))!.split(" ");
    const description = (await Promise.all(described.map((id) => page.locator(`#${id}`).innerText()))).join(" ");
    expect(description).toContain("url must use https://");
    expect(await page.evaluate("document.activeElement.id")).toBe("f-webhook-url");
    await page.getByText(/must be a duration such as 30s/).waitFor();
    await page.getByLabel("Allow plain http://").check();
    await page.getByLabel("Timeout").fill("");
    expect(await page.getByText("url must use https://").count()).toBe(0);
    expect(sent).toEqual([]);
    await page.context().close();
  });

  it("tests a working webhook: every stage passes and the receiver got the signed probe", async () => {
    const page = await signedIn();
    const before = webhook.received.length;
    await fillNew(page, { url: `${webhook.url}/hooks/audit`, secret: webhookSecret, insecure: true });
    expect(statuses(await runTest(page))).toEqual(["resolve:passed", "connect:passed", "tls:skipped", "authenticate:passed", "probe:passed"]);
    await page.getByText("Test passed").waitFor();
    expect(webhook.received.length).toBeGreaterThan(before);
    // The secret is in the form only: nothing in the browser's storage, and gone after leaving the page.
    expect(await page.evaluate("JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage), document.cookie])")).not.toContain(webhookSecret);
    await page.getByRole("link", { name: "Log Forwarding" }).first().click();
    await page.getByRole("link", { name: "New destination" }).click();
    expect(await page.getByLabel("Signing secret").inputValue()).toBe("");
    await page.context().close();
  });

  it("shows each failing stage with its remedy", async () => {
    const page = await signedIn();
    const cases = [
      { url: `http://127.0.0.1:${await closedPort()}/hook`, insecure: true, failed: "connect", remedy: "Nothing accepts connections" },
      { url: "https://trailkeeper-test.x.invalid/hook", failed: "resolve", remedy: "does not resolve" },
      { url: `${webhookTls.url}/hook`, failed: "tls", remedy: "tls.caSecretRef" },
    ];
    for (const c of cases) {
      await fillNew(page, { url: c.url, secret: webhookSecret, insecure: c.insecure ?? false });
      const stages = await runTest(page);
      const i = stages.findIndex((s) => s.name === c.failed);
      expect(stages[i]!.status, c.failed).toBe("failed");
      expect(stages.slice(i + 1).every((s) => s.status === "skipped")).toBe(true);
      await page.getByText("Test failed").waitFor();
      await page.getByRole("table", { name: "Test stages" }).getByText(c.remedy, { exact: false }).waitFor();
    }
    await fillNew(page, { type: "Splunk HEC", url: hec.url, secretLabel: "HEC token", secret: "not-the-token", insecure: true });
    expect(statuses(await runTest(page))).toEqual(["resolve:passed", "connect:passed", "tls:skipped", "authenticate:failed", "probe:skipped"]);
    await page.getByText("Remedy: The token was refused").waitFor();
    expect(await page.locator("main").innerText()).not.toContain("not-the-token");
    await page.context().close();
  });

  it("without Kubernetes access, Save shows the manifest to commit and sends nothing", async () => {
    const page = await signedIn();
    const sent: string[] = [];
    page.on("request", (r) => r.method() !== "GET" && sent.push(`${r.method()} ${new URL(r.url()).pathname}`));
    await fillNew(page, { url: "https://siem.example.com/audit", secret: webhookSecret });
    await page.getByLabel("Format").selectOption("ocsf");
    await page.getByRole("button", { name: "Save as manifest" }).click();
    await page.getByLabel("Apply command").getByText("kubectl apply -f siem-new.yaml").waitFor();
    const docs = loadAll(await page.getByLabel("Manifest YAML").innerText()) as { kind: string; metadata: { name: string; namespace: string }; spec?: unknown; stringData?: unknown }[];
    expect(docs.map((d) => `${d.kind} ${d.metadata.namespace}/${d.metadata.name}`)).toEqual(["Secret acme-prod/siem-new-credentials", "LogForwardingDestination acme-prod/siem-new"]);
    expect(docs[0]!.stringData).toEqual({ signingSecret: webhookSecret });
    expect(docs[1]!.spec).toEqual({ enabled: true, format: "ocsf", webhook: { url: "https://siem.example.com/audit", signingSecretRef: { name: "siem-new-credentials", key: "signingSecret" } } });
    expect(logForwardingDestinationSpecSchema.safeParse(docs[1]!.spec).success).toBe(true);
    expect(sent).toEqual([]);
    await page.context().close();
  });
});

const looks = [
  { look: "desktop-light", viewport: { width: 1280, height: 800 }, colorScheme: "light" as const },
  { look: "desktop-dark", viewport: { width: 1280, height: 800 }, colorScheme: "dark" as const },
  { look: "phone", viewport: { width: 390, height: 844 }, colorScheme: "light" as const, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
];

const views = [
  { name: "log-forwarding", open: async (page: Page) => void (await page.goto("/log-forwarding")), ready: "acme-prod/rejecting" },
  { name: "log-forwarding-destination", open: async (page: Page) => void (await page.goto("/log-forwarding/acme-prod/rejecting")), ready: "HTTP 400 Incorrect index (seq 25)" },
  {
    name: "log-forwarding-new",
    open: async (page: Page) => {
      await fillNew(page, { type: "Splunk HEC", url: hec.url, secretLabel: "HEC token", secret: "not-the-token", insecure: true });
      await runTest(page);
    },
    ready: "Remedy: The token was refused",
  },
];

describe("quality", () => {
  for (const { look, ...opts } of looks) {
    it(`passes axe-core and fits the screen: ${look}`, async () => {
      const page = await signedIn(opts);
      mkdirSync(shotDir, { recursive: true });
      for (const v of views) {
        await v.open(page);
        await page.getByText(v.ready).first().waitFor();
        const violations = seriousOrWorse(await axeScan(page));
        expect(violations, `${v.name} ${look}: ${JSON.stringify(violations, null, 1)}`).toEqual([]);
        expect(await page.evaluate("document.documentElement.scrollWidth"), v.name).toBeLessThanOrEqual(opts.viewport.width);
        await fullScreenshot(page, path.join(shotDir, `${v.name}-${look}.png`));
      }
      await page.context().close();
    });
  }
});
