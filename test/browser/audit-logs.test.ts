/**
 * The Audit Logs page in Debian's chromium: every search qualifier, the category filter, time presets, row
 * expansion and copy, paging past 1,000 events, both exports (compared with the API's), and back/forward.
 */
import { readFile } from "node:fs/promises";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../support/api.ts";
import { appendEvents, newPage, seededTenant, signInWithKey, startConsoleEnv, visibleSeqs, type ConsoleEnv } from "../support/browser.ts";

let env: ConsoleEnv;
let keys: { writer: string; reader: string };
const seq: Record<"A" | "B" | "C" | "D", number> = { A: 0, B: 0, C: 0, D: 0 };
let bulk: number[] = [];
const bulkCount = 1_100;

beforeAll(async () => {
  env = await startConsoleEnv();
  keys = await seededTenant(env.base, "acme");
  const start = Date.parse("2026-09-01T00:00:00Z");
  bulk = (
    await appendEvents(env.base, keys.writer, Array.from({ length: bulkCount }, (_, i) => ({
      actor: { id: "user-x", type: "user" }, action: "resource.update", resource: { type: "cluster", id: `c-${i}` }, outcome: "success",
      occurredAt: new Date(start + i * 60_000).toISOString(), details: { n: i },
    })))
  ).map((r) => r.seq);
  const named = await appendEvents(env.base, keys.writer, [
    { actor: { id: "u-42", name: "Ada Lovelace", type: "user" }, action: "auth.login", resource: { type: "console", id: "web" }, outcome: "success", clientIp: "10.1.2.3", occurredAt: "2026-11-05T10:00:00Z" },
    { actor: { id: "u-7", name: "Bob", type: "user" }, action: "auth.login", resource: { type: "console", id: "web" }, outcome: "failure", clientIp: "192.168.1.9", occurredAt: "2026-10-20T08:00:00Z" },
    { actor: { id: "u-42", name: "Ada Lovelace", type: "user" }, action: "secret.reveal", resource: { type: "database", id: "db-1", name: "orders-db" }, outcome: "success", clientIp: "10.9.9.9", occurredAt: "2026-11-15T12:00:00Z", details: { reason: "incident INC-7781", ticket: { id: 7781, urgent: true } } },
    { actor: { id: "svc-backup", type: "service" }, action: "resource.delete", resource: { type: "database", id: "db-2" }, outcome: "failure", clientIp: "2001:db8::1", occurredAt: "2026-11-20T00:00:00Z" },
  ]);
  [seq.A, seq.B, seq.C, seq.D] = named.map((r) => r.seq) as [number, number, number, number];
});
afterAll(() => env?.close());

async function signedIn(): Promise<Page> {
  const { page } = await newPage(env);
  await signInWithKey(page, keys.reader);
  return page;
}

async function search(page: Page, text: string): Promise<void> {
  await page.getByLabel("Search audit logs").fill(text);
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await page.waitForURL((u) => u.searchParams.get("q") === text);
  await page.getByRole("status").filter({ hasText: /events? loaded/ }).waitFor();
}

/** The machine is shared: give the page time, but fail a wrong answer (polls until the timeout). */
const eventually = { timeout: 15_000, interval: 100 };
const sorted = (xs: number[]) => [...xs].sort((a, b) => b - a);

describe("search qualifiers", () => {
  // Consecutive cases expect different rows, so a stale table can never pass for the next search.
  const cases: [string, (keyof typeof seq)[]][] = [
    ["action:auth.*", ["A", "B"]],
    ["actor:u-42", ["A", "C"]],
    ["category:secrets", ["C"]],
    ['actor:"Ada Lovelace"', ["A", "C"]],
    ["resource:db-1", ["C"]],
    ["type:database", ["C", "D"]],
    ["resource:orders-db", ["C"]],
    ["outcome:failure", ["B", "D"]],
    ["ip:10.0.0.0/8", ["A", "C"]],
    ["ip:2001:db8::/32", ["D"]],
    ["action:auth.* before:2026-11-01", ["B"]],
    ["after:2026-11-10 before:2026-12-01", ["C", "D"]],
    ["INC-7781", ["C"]],
    ["type:database outcome:failure", ["D"]],
  ];

  it("each qualifier narrows the table to exactly the matching events, and the URL holds the query", async () => {
    const page = await signedIn();
    for (const [text, expected] of cases) {
      await search(page, text);
      await expect.poll(() => visibleSeqs(page), { message: text, ...eventually }).toEqual(sorted(expected.map((k) => seq[k])));
    }
    // The URL alone reproduces the view.
    await page.reload();
    await expect.poll(() => visibleSeqs(page), eventually).toEqual([seq.D]);
    await expect.poll(() => page.getByLabel("Search audit logs").inputValue(), eventually).toBe("type:database outcome:failure");
    await page.context().close();
  });

  it("reports a qualifier the API cannot serve inline and runs no search", async () => {
    const page = await signedIn();
    // The page's first search (no filter) must be done before counting: it is not the one under test.
    await page.getByRole("status").filter({ hasText: /events? loaded/ }).waitFor();
    const searched: string[] = [];
    // A new search starts without a cursor; requests with one are the previous list filling in.
    page.on("request", (r) => r.url().includes("/v1/events?") && !r.url().includes("cursor=") && searched.push(r.url()));
    await page.getByLabel("Search audit logs").fill("user:bob outcome:maybe -actor:u-1 ok");
    await page.getByRole("button", { name: "Search", exact: true }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    const text = await alert.textContent();
    expect(text).toContain('unknown qualifier "user:"');
    expect(text).toContain("expected success, failure or unknown");
    expect(text).toContain("-actor:");
    expect(await page.getByRole("table").count()).toBe(0);
    expect(searched).toEqual([]);
    await page.context().close();
  });

  it("shows the server's problem detail when the API rejects the filter", async () => {
    const page = await signedIn();
    // 999.1.1.1 passes the console's shape check; the server rejects it as an address.
    await page.getByLabel("Search audit logs").fill("ip:999.1.1.1");
    await page.getByRole("button", { name: "Search", exact: true }).click();
    const alert = page.getByRole("alert").filter({ hasText: "The search failed" });
    await alert.waitFor();
    expect(await alert.textContent()).toContain("invalid_filter");
    expect(await alert.textContent()).toContain("ip");
    await page.context().close();
  });
});

describe("filters", () => {
  it("the action-type filter combines categories, and the time presets narrow by time", async () => {
    const page = await signedIn();
    await page.getByText("Action type: all").click();
    await page.getByRole("checkbox", { name: "Authentication & SSO" }).check();
    await page.waitForURL((u) => u.searchParams.get("category") === "auth");
    await page.getByRole("checkbox", { name: "Secrets & vault" }).check();
    await page.waitForURL((u) => u.searchParams.get("category") === "auth,secrets");
    await expect.poll(() => visibleSeqs(page), eventually).toEqual(sorted([seq.A, seq.B, seq.C]));
    // Escape closes the list, as a menu would; the summary shows how many are chosen.
    await page.keyboard.press("Escape");
    await page.getByRole("checkbox", { name: "Secrets & vault" }).waitFor({ state: "hidden" });
    await page.getByText("Action type (2)").click();

    await page.getByRole("checkbox", { name: "Authentication & SSO" }).uncheck();
    await page.getByRole("checkbox", { name: "Secrets & vault" }).uncheck();
    await page.getByLabel("Time range").selectOption({ label: "Last 24 hours" });
    await page.waitForURL((u) => u.searchParams.get("range") === "24h" && !u.searchParams.has("category"));
    // Only the trail's own records (key creation, console sign-ins) happened in the last day; every seeded event is older.
    const actionsShown = async () => {
      const rows = await page.getByRole("row").filter({ has: page.getByRole("button", { name: /^Details of event/ }) }).allInnerTexts();
      return [...new Set(rows.map((r) => /\b(audit\.[\w.]+|apikey\.\w+|[a-z]+\.[\w.]+)\b/.exec(r)?.[1]))].sort();
    };
    await expect.poll(actionsShown, eventually).toEqual(["apikey.create", "audit.console.signin"]);

    // A custom range: the inputs take the browser's local time (UTC here), the URL keeps instants.
    await page.getByLabel("Time range").selectOption({ label: "Custom range" });
    await page.getByLabel("From", { exact: true }).fill("2026-11-10T00:00");
    await page.getByLabel("To", { exact: true }).fill("2026-12-01T00:00");
    await page.waitForURL((u) => u.searchParams.get("range") === "custom" && u.searchParams.get("to") === "2026-12-01T00:00:00.000Z");
    await expect.poll(() => visibleSeqs(page), eventually).toEqual(sorted([seq.C, seq.D]));
    await page.context().close();
  });
});

describe("rows", () => {
  it("expand by keyboard to the details, and Copy JSON copies exactly the stored event", async () => {
    const { context, page } = await newPage(env);
    await context.grantPermissions(["clipboard-read", "clipboard-write"]);
    await signInWithKey(page, keys.reader);
    await search(page, "category:secrets");
    const toggle = page.getByRole("button", { name: `Details of event ${seq.C}` });
    expect(await toggle.getAttribute("aria-expanded")).toBe("false");
    await toggle.focus();
    await page.keyboard.press("Enter");
    expect(await toggle.getAttribute("aria-expanded")).toBe("true");
    const stored = (await call(env.base, "GET", "/v1/events?category=secrets", { token: keys.writer })).body.events[0];
    const details = page.locator(`#details-${seq.C}`);
    for (const text of [stored.id, stored.hash, stored.prevHash, "incident INC-7781"]) await details.getByText(text).first().waitFor();
    await details.getByRole("button", { name: "Copy JSON" }).click();
    await details.getByText("Copied").waitFor();
    const copied = (await page.evaluate("navigator.clipboard.readText()")) as string;
    expect(JSON.parse(copied)).toEqual(stored);
    await page.keyboard.press("Shift+Tab");
    await toggle.click();
    expect(await toggle.getAttribute("aria-expanded")).toBe("false");
    await context.close();
  });
});

describe("details on demand", () => {
  // The table keeps only its cells' text (docs/performance.md, "Console"): an expanded row fetches its event.
  it("a row whose event cannot be fetched says so, and Try again shows the event", async () => {
    const page = await signedIn();
    await search(page, "category:secrets");
    const stored = (await call(env.base, "GET", "/v1/events?category=secrets", { token: keys.writer })).body.events[0];
    // A real network failure for this one request (the connection is reset); the rest of the page is untouched.
    const eventPath = `**/v1/events/${stored.id}?*`;
    await page.route(eventPath, (route) => route.abort("connectionreset"));
    await page.getByRole("button", { name: `Details of event ${seq.C}` }).click();
    const details = page.locator(`#details-${seq.C}`);
    await details.getByRole("alert").filter({ hasText: `Event ${seq.C} could not be loaded` }).waitFor();
    expect(await details.getByText(stored.hash).count()).toBe(0);
    await page.unroute(eventPath);
    await details.getByRole("button", { name: "Try again" }).click();
    for (const text of [stored.id, stored.hash, "incident INC-7781"]) await details.getByText(text).first().waitFor();
    expect(await details.getByRole("alert").count()).toBe(0);
    await page.context().close();
  });
});

describe("paging", () => {
  it("scrolls through more than 1,000 events by keyset pages, to the very last one", async () => {
    const page = await signedIn();
    await search(page, "action:resource.update");
    const table = page.getByRole("table");
    const done = page.getByRole("status").filter({ hasText: `${bulkCount.toLocaleString("en")} events loaded` });
    for (let i = 0; i < 200 && !(await done.isVisible()); i++) {
      await table.hover();
      await page.mouse.wheel(0, 4000);
      await page.waitForTimeout(50);
    }
    await done.waitFor();
    await page.getByText("End of results.").waitFor();
    // Scrolled to the bottom, the last row is the oldest matching event.
    const lastShown = async () => {
      await page.mouse.wheel(0, 4000);
      return (await visibleSeqs(page)).at(-1);
    };
    await expect.poll(lastShown, eventually).toBe(Math.min(...bulk));
    const seqs = await visibleSeqs(page);
    // Virtualised: only the rows in view are in the DOM.
    expect(seqs.length).toBeLessThan(100);
    await page.context().close();
  });
});

describe("recycled rows", () => {
  /** Each rendered row's seq (from its button's name) and Resource cell, in DOM order. */
  const renderedRows = (page: Page) =>
    page.evaluate(`[...document.querySelectorAll("tr.event-row")].map((tr) => [Number(/(\\d+)$/.exec(tr.querySelector("button.expand").textContent.trim())[1]), tr.children[5].textContent])`) as Promise<[number, string][]>;

  it("rows reused while scrolling show their own event, and an expanded row's details stay with its event", async () => {
    const page = await signedIn();
    await search(page, "action:resource.update");
    const resourceOf = new Map(bulk.map((s, i) => [s, `c-${i}`]));
    const top = Math.max(...bulk);
    await page.getByRole("button", { name: `Details of event ${top}` }).click();
    await page.locator(`#details-${top}`).getByText(`"n": ${bulkCount - 1}`).waitFor();
    const table = page.getByRole("table");
    await table.hover();
    for (let i = 0; i < 12; i++) {
      await page.mouse.wheel(0, 600);
      await page.waitForTimeout(30);
      const rows = await renderedRows(page);
      expect(rows.length).toBeGreaterThan(5);
      // Newest first and consecutive: a row showing a stale or another row's event breaks one of these.
      for (const [k, [seq, resource]] of rows.entries()) {
        expect(resource).toBe(resourceOf.get(seq));
        if (k > 0) expect(seq).toBe(rows[k - 1]![0] - 1);
      }
    }
    const middle = (await renderedRows(page))[3]![0];
    await page.getByRole("button", { name: `Details of event ${middle}` }).click();
    await page.locator(`#details-${middle}`).getByText(`"n": ${bulk.indexOf(middle)}`).waitFor();
    await page.mouse.wheel(0, -20_000);
    await expect.poll(async () => (await renderedRows(page))[0]?.[0], eventually).toBe(top);
    await page.locator(`#details-${top}`).getByText(`"n": ${bulkCount - 1}`).waitFor();
    expect(await page.locator(".details-row").count()).toBe(1);
    await page.context().close();
  });
});

describe("recycled rows, partial steps", () => {
  it("scrolling by parts of a row updates only the rows that enter the view", async () => {
    const page = await signedIn();
    await search(page, "action:resource.update");
    await page.getByRole("table").hover();
    // Counts, each time the page renders, the rows whose text changed (a row that takes another event).
    await page.evaluate(`(() => {
      window.rowUpdates = 0;
      new MutationObserver((records) => {
        const rows = new Set(records.map((r) => r.target.parentElement?.closest("tr.event-row")).filter(Boolean));
        window.rowUpdates += rows.size;
      }).observe(document.querySelector("tbody"), { characterData: true, subtree: true });
    })()`);
    const before = Math.max(...(await visibleSeqs(page)));
    // 37 px steps end at every offset within a row, so the window's length changes by one whenever a row edge
    // crosses the viewport's top or bottom, whatever the viewport's height.
    for (let i = 0; i < 60; i++) {
      await page.mouse.wheel(0, 37);
      await page.waitForTimeout(20);
    }
    await expect.poll(async () => Math.max(...(await visibleSeqs(page))), eventually).toBeLessThan(before - 40);
    const moved = before - Math.max(...(await visibleSeqs(page)));
    const updated = (await page.evaluate("window.rowUpdates")) as number;
    // About one update per row that entered; re-keying the rows whenever the window's length changed updated all of them.
    expect(updated).toBeGreaterThan(0);
    expect(updated).toBeLessThan(moved + 30);
    await page.context().close();
  });
});

describe("exports", () => {
  it("Export CSV and Export JSONL download exactly the current filter, as the API exports it", async () => {
    const page = await signedIn();
    await search(page, "actor:u-42");
    for (const [name, format] of [["Export JSONL", "jsonl"], ["Export CSV", "csv"]] as const) {
      const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name }).click()]);
      const body = await readFile((await download.path())!, "utf8");
      const api = await fetch(`${env.base}/v1/events/export?format=${format}&actor=u-42`, { headers: { authorization: `Bearer ${keys.writer}` } });
      expect(api.status).toBe(200);
      expect(body).toBe(await api.text());
      expect(download.suggestedFilename()).toMatch(new RegExp(`^trailkeeper-acme-.*-filtered\\.${format}$`));
      if (format === "jsonl") expect(body.trim().split("\n").map((l) => JSON.parse(l).seq)).toEqual([seq.A, seq.C]);
    }
    await page.context().close();
  });
});

describe("history", () => {
  it("back and forward restore each search", async () => {
    const page = await signedIn();
    await search(page, "outcome:failure");
    await search(page, "category:secrets");
    await page.goBack();
    await page.waitForURL((u) => u.searchParams.get("q") === "outcome:failure");
    await expect.poll(() => page.getByLabel("Search audit logs").inputValue(), eventually).toBe("outcome:failure");
    await expect.poll(() => visibleSeqs(page), eventually).toEqual(sorted([seq.B, seq.D]));
    await page.goForward();
    await page.waitForURL((u) => u.searchParams.get("q") === "category:secrets");
    await expect.poll(() => visibleSeqs(page), eventually).toEqual([seq.C]);
    await page.context().close();
  });
});

describe("refresh", () => {
  it("Refresh shows events appended since the search ran", async () => {
    const page = await signedIn();
    await search(page, "actor:u-late");
    await page.getByText("No events match this search.").waitFor();
    const [late] = await appendEvents(env.base, keys.writer, [{ actor: { id: "u-late", type: "user" }, action: "auth.logout", resource: { type: "console", id: "web" }, outcome: "success" }]);
    await page.getByRole("button", { name: "Refresh" }).click();
    await expect.poll(() => visibleSeqs(page), eventually).toEqual([late!.seq]);
    await page.context().close();
  });
});
