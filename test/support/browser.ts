/**
 * Browser-test support: Debian's chromium driven by playwright-core, against a real API server (port 0, real
 * Postgres) that serves the real built console. Pages are driven the way a person uses them: roles, labels, text.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from "playwright-core";
import type { RunningApiServer } from "../../api-server/src/server.ts";
import { call, startTestApi, tenantWithKey, testAdminToken } from "./api.ts";
import { freshDatabase, type TestDatabase } from "./database.ts";

export const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

export interface ConsoleEnv {
  db: TestDatabase;
  api: RunningApiServer;
  base: string;
  browser: Browser;
  close(): Promise<void>;
}

/** A fresh database, an API server serving console/dist, and a browser. */
export async function startConsoleEnv(env: Record<string, string> = {}): Promise<ConsoleEnv> {
  const db = await freshDatabase();
  const api = await startTestApi(db, { TRAILKEEPER_CHECKPOINT_EVERY_SECONDS: "3600", ...env });
  const browser = await launchBrowser();
  return {
    db, api, base: api.url, browser,
    async close() {
      await browser.close();
      await api.close();
      await db.drop();
    },
  };
}

export async function newPage(env: ConsoleEnv, opts: BrowserContextOptions = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await env.browser.newContext({ baseURL: env.base, viewport: { width: 1280, height: 800 }, acceptDownloads: true, ...opts });
  const page = await context.newPage();
  return { context, page };
}

/** Posts events with a key holding events:write; returns the stored {id, seq, hash} in order. */
export async function appendEvents(base: string, key: string, events: Record<string, unknown>[]): Promise<{ id: string; seq: number; hash: string }[]> {
  const out: { id: string; seq: number; hash: string }[] = [];
  for (let i = 0; i < events.length; i += 1000) {
    const r = await call(base, "POST", "/v1/events", { token: key, body: { events: events.slice(i, i + 1000) } });
    if (r.status !== 201) throw new Error(`append: ${r.status} ${JSON.stringify(r.body)}`);
    out.push(...r.body.events);
  }
  return out;
}

/** A tenant with a writer key (for seeding) and a reader key (for the console). */
export async function seededTenant(base: string, tenant: string, readerScopes = ["events:read", "events:export", "integrity:read"]): Promise<{ writer: string; reader: string }> {
  const writer = await tenantWithKey(base, tenant, ["events:write", "events:read", "events:export", "integrity:read"]);
  const k = await call(base, "POST", `/v1/admin/tenants/${tenant}/api-keys`, { token: testAdminToken, body: { scopes: readerScopes, name: "console" } });
  if (k.status !== 201) throw new Error(`key create: ${k.status}`);
  return { writer, reader: k.body.key as string };
}

/** Signs in through the paste-a-key form and waits for the Audit Logs page. */
export async function signInWithKey(page: Page, key: string): Promise<void> {
  await page.goto("/signin");
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Audit Logs" }).waitFor();
}

/** Mints a one-time sign-in link with the admin API. */
export async function mintLink(base: string, tenant: string, body: Record<string, unknown> = {}): Promise<{ id: string; token: string; url: string }> {
  const r = await call(base, "POST", `/v1/admin/tenants/${tenant}/viewer-sessions`, { token: testAdminToken, body });
  if (r.status !== 201) throw new Error(`mint: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** The events the API returns for a query string, all pages, with a bearer key. */
export async function searchAll(base: string, key: string, params: string): Promise<{ seq: number; id: string }[]> {
  const all: { seq: number; id: string }[] = [];
  let cursor: string | null = null;
  do {
    const r = await call(base, "GET", `/v1/events?limit=500${params ? `&${params}` : ""}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, { token: key });
    if (r.status !== 200) throw new Error(`search ${params}: ${r.status} ${JSON.stringify(r.body)}`);
    all.push(...r.body.events);
    cursor = r.body.nextCursor;
  } while (cursor);
  return all;
}

/** The seq numbers of the rows the table currently shows, read from the expand buttons' accessible names. */
export async function visibleSeqs(page: Page): Promise<number[]> {
  const names = await page.getByRole("button", { name: /^Details of event \d+$/ }).allTextContents();
  return names.map((n) => Number(/(\d+)$/.exec(n.trim())![1]));
}

const axeSource = readFileSync(path.resolve(import.meta.dirname, "../../node_modules/axe-core/axe.min.js"), "utf8");

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; html: string }[];
}

/**
 * Runs axe-core on the page as it is. The page's CSP forbids injected scripts, so axe is evaluated as a
 * function body through the DevTools protocol (page.evaluate), which CSP does not govern.
 */
export async function axeScan(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(`(() => { if (!globalThis.axe) { ${axeSource}\n; globalThis.axe = axe; } })()`);
  const result = (await page.evaluate(`globalThis.axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, html: n.html })) })))`)) as AxeViolation[];
  return result;
}

export const seriousOrWorse = (v: AxeViolation[]) => v.filter((x) => x.impact === "serious" || x.impact === "critical");
