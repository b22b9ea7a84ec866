import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApiServer } from "../../../api-server/src/server.ts";
import { eventSelectList, rowToEvent } from "../../../core/src/db/event-rows.ts";
import { csvColumns, csvHeader, eventFromCsv, parseCsv } from "../../../core/src/export/csv.ts";
import { csvRecord, csvValues } from "../../support/csv-reference.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { call, startTestApi, tenantWithKey } from "../../support/api.ts";

let db: TestDatabase;
let api: RunningApiServer;
let key: string;

const tricky = [
  { actor: { id: "u,1", name: 'Zoë "Z" Ångström', type: "user" }, action: "user.create", resource: { type: "user", id: "line1\nline2", name: "=HYPERLINK(\"http://x\")" }, outcome: "success", userAgent: "+cmd|' /C calc'!A0", sessionId: "-2+3", requestId: "@SUM(1)", details: { note: "comma, \"quote\"\r\nnewline", emoji: "🚀", n: 1.5 } },
  { actor: { id: "\tTabbed", type: "service" }, action: "team.update", resource: { type: "team", id: "'quoted", name: "\rcr" }, outcome: "failure", details: { "=key": "=value" } },
  { actor: { id: "plain", type: "system" }, action: "billing.charge", resource: { type: "invoice", id: "日本語" } },
  { actor: { id: "back\\slash", name: "x\r\ny", type: "user" }, action: "settings.update", resource: { type: "setting", id: 'say "hi"', name: "a\tb" }, clientIp: "2001:db8::1", userAgent: "-", details: {} },
  { actor: { id: "q", name: "O'Brien 100%", type: "user" }, action: "vpn.connect", resource: { type: "tunnel", id: "t" }, clientIp: "10.1.2.3", details: { path: "C:\\dir\\file", quote: '"', tab: "\t", nested: { list: [1, "=2", null, true] } } },
];

beforeAll(async () => {
  db = await freshDatabase();
  api = await startTestApi(db);
  key = await tenantWithKey(api.url, "exp", ["events:write", "events:read", "events:export"]);
  expect((await call(api.url, "POST", "/v1/events", { token: key, body: { events: tricky } })).status).toBe(201);
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

async function download(query: string) {
  const res = await fetch(`${api.url}/v1/events/export?${query}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const storedEvents = async () => (await db.pool.query(`SELECT ${eventSelectList} FROM events WHERE tenant = 'exp' ORDER BY seq`)).rows.map(rowToEvent);

/** Python's csv module in strict mode is the independent RFC 4180 reader. */
function parseWithPython(text: string): string[][] {
  const script = "import csv,sys,json; r=csv.reader(sys.stdin, strict=True); print(json.dumps(list(r)))";
  return JSON.parse(execFileSync("python3", ["-c", script], { input: text, encoding: "utf8" })) as string[][];
}

describe("GET /v1/events/export", () => {
  it("streams JSONL identical to the stored events, in chain order, ending with its own audit.export record", async () => {
    const res = await download("format=jsonl");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="trailkeeper-exp-\d{8}T\d{6}Z\.jsonl"$/);
    const lines = res.text.trimEnd().split("\n").map((l) => JSON.parse(l));
    const stored = await storedEvents();
    expect(lines).toEqual(stored.slice(0, lines.length));
    expect(lines.at(-1)).toMatchObject({ action: "audit.export", category: "audit", details: { format: "jsonl", filters: {} } });
    expect(lines.map((e) => e.seq)).toEqual(lines.map((_, i) => i + 1));
  });

  it("writes RFC 4180 CSV with the documented columns that a strict parser reads back, formulas neutralised", async () => {
    const res = await download("format=csv&action=user.*,team.*");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/csv; charset=utf-8/);
    expect(res.headers.get("content-disposition")).toMatch(/-filtered\.csv"$/);
    expect(res.text.startsWith("\uFEFF")).toBe(false);
    const rows = parseWithPython(res.text);
    expect(rows[0]).toEqual([...csvColumns]);
    const byName = (r: string[]) => Object.fromEntries(csvColumns.map((c, i) => [c, r[i]]));
    const [a, b] = rows.slice(1).map(byName);
    expect(rows).toHaveLength(3);
    expect(a).toMatchObject({
      actorId: "u,1", actorName: 'Zoë "Z" Ångström', resourceId: "line1\nline2", resourceName: "'=HYPERLINK(\"http://x\")",
      userAgent: "'+cmd|' /C calc'!A0", sessionId: "'-2+3", requestId: "'@SUM(1)", outcome: "success", category: "users",
    });
    expect(JSON.parse(a!.details!)).toEqual(tricky[0]!.details);
    expect(a!.details).toBe('{"emoji":"🚀","n":1.5,"note":"comma, \\"quote\\"\\r\\nnewline"}');
    expect(b).toMatchObject({ actorId: "'\tTabbed", resourceId: "''quoted", resourceName: "'\rcr", actorName: "", clientIp: "" });
  });

  it("writes CSV (made by PostgreSQL's COPY) byte for byte as the documented rules render the stored events", async () => {
    const res = await download("format=csv");
    const through = Number(res.headers.get("trailkeeper-export-through-seq"));
    const stored = (await storedEvents()).filter((e) => e.seq <= through);
    expect(stored.length).toBeGreaterThanOrEqual(tricky.length + 2);
    expect(res.text).toBe(csvHeader() + stored.map((e) => csvRecord(csvValues(e))).join(""));
  });

  it("adds a UTF-8 BOM for Excel on request", async () => {
    const res = await fetch(`${api.url}/v1/events/export?format=csv&bom=1`, { headers: { authorization: `Bearer ${key}` } });
    const bytes = Buffer.from(await res.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  });

  it("records every export in the chain with its filters: when it starts, and with its outcome when it ends", async () => {
    await download("format=csv&actor=plain&q=invoice");
    const rows = (await db.pool.query("SELECT outcome, details FROM events WHERE tenant = 'exp' AND action = 'audit.export' ORDER BY seq")).rows;
    const [opening, closing] = rows.slice(-2).map((r) => ({ outcome: r.outcome, details: JSON.parse(r.details) }));
    expect(opening).toEqual({ outcome: "unknown", details: { format: "csv", filters: { actor: "plain", q: "invoice" } } });
    expect(closing).toMatchObject({ outcome: "success", details: { format: "csv", filters: { actor: "plain", q: "invoice" }, rows: 1 } });
    expect(rows.length).toBeGreaterThanOrEqual(6);
  });

  it("applies every kind of filter to CSV (COPY, values inlined as literals) exactly as to JSONL (bind parameters)", async () => {
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const cases: [string, number][] = [
      ["actor=back%5Cslash", 1],
      ["q=O'Brien", 1],
      ["q=100%25", 1],
      ["resource=say%20%22hi%22", 1],
      ["ip=10.1.0.0/16&category=network", 1],
      ["action=vpn.*,settings.update&outcome=unknown", 2],
      [`from=${encodeURIComponent(from)}&category=users,billing,settings,network`, tricky.length],
      ["actor=nobody'--", 0],
    ];
    for (const [filter, expected] of cases) {
      const csvRes = await download(`format=csv&${filter}`);
      expect(csvRes.status, `${filter}: ${csvRes.text.slice(0, 300)}`).toBe(200);
      const csv = [...parseCsv(csvRes.text)].slice(1).map((r) => eventFromCsv(r));
      const jsonl = (await download(`format=jsonl&${filter}`)).text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { id: string; action: string });
      // Each export records itself (audit.export, with its filters in details), which a later q= search can match.
      const ids = (events: { id: string; action: string }[]) => events.filter((e) => !e.action.startsWith("audit.")).map((e) => e.id);
      expect(ids(csv), filter).toEqual(ids(jsonl));
      expect(ids(csv).length, filter).toBe(expected);
    }
  });

  it("rejects a bad format or filter before recording anything", async () => {
    const before = (await storedEvents()).length;
    expect((await download("format=xml")).status).toBe(400);
    expect((await download("format=csv&ip=1.2.3.4/99")).status).toBe(400);
    expect((await storedEvents()).length).toBe(before);
  });
});
