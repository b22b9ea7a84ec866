/**
 * Hostile event content stays inert, every page passes axe-core (no serious or critical violation) in both
 * themes, and every page is usable at 1280×800 and at a 390-pixel phone width. With TRAILKEEPER_SCREENSHOTS=1
 * the screenshots are written to docs/console/ (otherwise to a temporary directory).
 */
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendEvents, axeScan, newPage, seededTenant, seriousOrWorse, signInWithKey, startConsoleEnv, type ConsoleEnv } from "../support/browser.ts";

let env: ConsoleEnv;
let keys: { writer: string; reader: string };
let hostileSeq = 0;
const shotDir = process.env.TRAILKEEPER_SCREENSHOTS === "1" ? path.resolve(import.meta.dirname, "../../docs/console") : mkdtempSync(path.join(tmpdir(), "tk-shots-"));

const hostile = {
  actor: { id: "u-evil", name: "<img src=x onerror=alert(1)>", type: "user" },
  action: "settings.update",
  resource: { type: "<b>bold</b>", id: "<script>alert(2)</script>", name: "invoice\u202Efdp.exe" },
  outcome: "failure",
  userAgent: "\"><svg onload=alert(3)>",
  details: { html: "<script>alert(4)</script>", link: "javascript:alert(5)", rtl: "\u2067abc\u2069", big: "A".repeat(30_000) },
};

beforeAll(async () => {
  env = await startConsoleEnv();
  keys = await seededTenant(env.base, "acme");
  const names = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "svc-backup"];
  const actions = ["auth.login", "secret.reveal", "resource.cluster.delete", "apikey.create", "user.invite", "settings.update", "auth.mfa.enable", "role.assign"];
  const base = Date.parse("2026-12-06T08:00:00Z");
  await appendEvents(env.base, keys.writer, Array.from({ length: 60 }, (_, i) => ({
    actor: { id: `u-${i % 4}`, name: names[i % 4], type: i % 4 === 3 ? "service" : "user" },
    action: actions[i % actions.length], resource: { type: ["database", "cluster", "secret", "team"][i % 4], id: `res-${i}`, name: `prod-${i % 5}` },
    outcome: i % 7 === 0 ? "failure" : "success", clientIp: `10.0.${i % 3}.${i + 10}`, occurredAt: new Date(base + i * 600_000).toISOString(), details: { requestedBy: names[(i + 1) % 4], ticket: 1000 + i },
  })));
  hostileSeq = (await appendEvents(env.base, keys.writer, [hostile]))[0]!.seq;
  await env.api.checkpointer.runOnce(true);
});
afterAll(() => env?.close());

function watchDialogs(page: Page): string[] {
  const fired: string[] = [];
  page.on("dialog", (d) => {
    fired.push(d.message());
    void d.dismiss();
  });
  return fired;
}

describe("hostile content", () => {
  it("renders as literal text: no dialog, no element made from event data, bidi overrides shown", async () => {
    const { page } = await newPage(env);
    const dialogs = watchDialogs(page);
    await signInWithKey(page, keys.reader);
    await page.getByRole("cell", { name: "<script>alert(2)</script>" }).waitFor();
    await page.getByRole("cell", { name: "<img src=x onerror=alert(1)> (u-evil)" }).waitFor();
    await page.getByRole("cell", { name: "invoice⟨U+202E⟩fdp.exe (<script>alert(2)</script>)" }).waitFor();
    await page.getByRole("button", { name: `Details of event ${hostileSeq}` }).click();
    const details = page.locator(`#details-${hostileSeq}`);
    await details.getByText('"html": "<script>alert(4)</script>"').waitFor();
    await details.getByText("\"><svg onload=alert(3)>", { exact: true }).waitFor();
    await details.getByText("⟨U+2067⟩abc⟨U+2069⟩").waitFor();
    expect(await page.locator("main img, main svg, main script, main b").count()).toBe(0);
    expect(dialogs).toEqual([]);
    // The 30 KB value stays inside its scrolling box instead of stretching the page.
    const box = await details.getByLabel("Event JSON").boundingBox();
    expect(box!.height).toBeLessThanOrEqual(20 * 16 + 2);
    await page.context().close();
  });
});

const pages = [
  { name: "signin", open: async (page: Page) => void (await page.goto("/signin")), ready: "Sign in to Trailkeeper", signedIn: false },
  {
    name: "audit-logs",
    open: async (page: Page) => {
      await page.goto("/audit-logs?category=auth,secrets");
      await page.getByRole("button", { name: /^Details of event \d+$/ }).nth(1).click();
    },
    ready: "Event JSON",
    signedIn: true,
  },
  {
    name: "integrity",
    open: async (page: Page) => {
      await page.goto("/integrity");
      await page.getByRole("button", { name: "Verify now" }).click();
      await page.getByText("Chain intact.").waitFor();
    },
    ready: "Latest signed checkpoint",
    signedIn: true,
  },
];

const looks = [
  { look: "desktop-light", viewport: { width: 1280, height: 800 }, colorScheme: "light" as const },
  { look: "desktop-dark", viewport: { width: 1280, height: 800 }, colorScheme: "dark" as const },
  { look: "phone", viewport: { width: 390, height: 844 }, colorScheme: "light" as const, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
];

describe("every page", () => {
  it("the axe scan itself finds violations (so a clean result means something)", async () => {
    const { context, page } = await newPage(env);
    await page.goto("/signin");
    await page.getByText("Sign in to Trailkeeper").waitFor();
    await page.evaluate(`document.querySelector("label[for=api-key]").remove(); document.getElementById("api-key").removeAttribute("placeholder")`);
    const ids = seriousOrWorse(await axeScan(page)).map((v) => v.id);
    expect(ids.some((id) => id.startsWith("label"))).toBe(true);
    await context.close();
  });

  for (const { look, ...opts } of looks) {
    it(`passes axe-core and fits the screen: ${look}`, async () => {
      const { context, page } = await newPage(env, opts);
      mkdirSync(shotDir, { recursive: true });
      for (const p of pages) {
        if (p.signedIn && !(await context.cookies()).some((c) => c.name === "tk_console")) await signInWithKey(page, keys.reader);
        await p.open(page);
        await page.getByText(p.ready).first().waitFor();
        const violations = seriousOrWorse(await axeScan(page));
        expect(violations, `${p.name} ${look}: ${JSON.stringify(violations, null, 1)}`).toEqual([]);
        // No sideways scrolling of the page itself; the events table scrolls inside its own box.
        expect(await page.evaluate("document.documentElement.scrollWidth"), p.name).toBeLessThanOrEqual(opts.viewport.width);
        await page.screenshot({ path: path.join(shotDir, `${p.name}-${look}.png`) });
      }
      await context.close();
    });
  }
});
