import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApiServer } from "../../../api-server/src/server.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { call, startTestApi, tenantWithKey } from "../../support/api.ts";

let db: TestDatabase;
let api: RunningApiServer;
let writer: string;
let reader: string;

const corpus = [
  { actor: { id: "u-ada", name: "Ada Lovelace", type: "user" }, action: "auth.login", resource: { type: "console", id: "web" }, outcome: "success", clientIp: "10.1.2.3", occurredAt: "2026-03-01T10:00:00Z" },
  { actor: { id: "u-ada", name: "Ada Lovelace", type: "user" }, action: "auth.logout", resource: { type: "console", id: "web" }, outcome: "success", clientIp: "10.1.2.3", occurredAt: "2026-03-01T11:00:00Z" },
  { actor: { id: "u-bob", name: "Bob", type: "user" }, action: "auth.login", resource: { type: "console", id: "web" }, outcome: "failure", clientIp: "192.0.2.44", occurredAt: "2026-03-02T09:00:00Z", details: { reason: "Wrong Password" } },
  { actor: { id: "svc-ci", type: "service" }, action: "secret.reveal", resource: { type: "secret", id: "s-1", name: "prod-db" }, outcome: "success", clientIp: "2001:db8::5", occurredAt: "2026-03-03T00:00:00Z", details: { vault: { path: "kv/prod/db", ticket: 4711 } } },
  { actor: { id: "u-bob", name: "Bob", type: "user" }, action: "sso.assert", resource: { type: "idp", id: "okta" }, outcome: "unknown", occurredAt: "2026-03-04T00:00:00Z" },
  { actor: { id: "u-cy", name: "Cy", type: "user" }, action: "resource.cluster.delete", resource: { type: "cluster", id: "c-9", name: "staging" }, outcome: "success", occurredAt: "2026-03-05T00:00:00Z", details: { note: "100% cleanup_done" } },
  { actor: { id: "u-cy", name: "Cy", type: "user" }, action: "settings.update", resource: { type: "setting", id: "retention" }, outcome: "success", occurredAt: "2026-03-06T00:00:00Z", details: { from: 90, to: 365 } },
];

beforeAll(async () => {
  db = await freshDatabase();
  api = await startTestApi(db);
  writer = await tenantWithKey(api.url, "search", ["events:write"]);
  reader = await tenantWithKey(api.url, "search", ["events:read"]);
  // Another tenant's look-alike events must never show up.
  const other = await tenantWithKey(api.url, "other", ["events:write"]);
  await call(api.url, "POST", "/v1/events", { token: other, body: { events: corpus } });
  const res = await call(api.url, "POST", "/v1/events", { token: writer, body: { events: corpus } });
  expect(res.status).toBe(201);
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

async function search(query: string) {
  const res = await call(api.url, "GET", `/v1/events${query ? `?${query}` : ""}`, { token: reader });
  if (res.status !== 200) throw new Error(`${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { events: { action: string; actor: { id: string }; seq: number; tenant: string }[]; nextCursor: string | null };
}
const ids = async (query: string) => (await search(query)).events.filter((e) => !e.action.startsWith("apikey.")).map((e) => `${e.actor.id}:${e.action}`);

describe("GET /v1/events filters", () => {
  it("returns the tenant's events newest first", async () => {
    const r = await search("");
    expect(r.events.every((e) => e.tenant === "search")).toBe(true);
    const seqs = r.events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(r.events).toHaveLength(corpus.length + 2);
  });

  it.each([
    ["action=auth.login", ["u-bob:auth.login", "u-ada:auth.login"]],
    ["action=auth.*", ["u-bob:auth.login", "u-ada:auth.logout", "u-ada:auth.login"]],
    ["action=auth.logout,secret.*", ["svc-ci:secret.reveal", "u-ada:auth.logout"]],
    ["action=resource.cluster.*", ["u-cy:resource.cluster.delete"]],
    ["category=auth", ["u-bob:sso.assert", "u-bob:auth.login", "u-ada:auth.logout", "u-ada:auth.login"]],
    ["category=secrets,settings", ["u-cy:settings.update", "svc-ci:secret.reveal"]],
    ["actor=Bob", ["u-bob:sso.assert", "u-bob:auth.login"]],
    ["actor=svc-ci", ["svc-ci:secret.reveal"]],
    ["resourceType=console", ["u-bob:auth.login", "u-ada:auth.logout", "u-ada:auth.login"]],
    ["resource=staging", ["u-cy:resource.cluster.delete"]],
    ["resource=s-1", ["svc-ci:secret.reveal"]],
    ["outcome=failure", ["u-bob:auth.login"]],
    ["outcome=failure,unknown", ["u-bob:sso.assert", "u-bob:auth.login"]],
    ["ip=10.0.0.0/8", ["u-ada:auth.logout", "u-ada:auth.login"]],
    ["ip=192.0.2.44", ["u-bob:auth.login"]],
    ["ip=2001:db8::/32", ["svc-ci:secret.reveal"]],
    ["from=2026-03-02T00:00:00Z&to=2026-03-04T00:00:00Z", ["svc-ci:secret.reveal", "u-bob:auth.login"]],
    ["from=2026-03-05T00:00:00Z", ["u-cy:settings.update", "u-cy:resource.cluster.delete"]],
    ["q=password", ["u-bob:auth.login"]],
    ["q=KV%2FPROD", ["svc-ci:secret.reveal"]],
    ["q=4711", ["svc-ci:secret.reveal"]],
    ["q=lovelace%20logout", ["u-ada:auth.logout"]],
    ["q=100%25%20cleanup_done", ["u-cy:resource.cluster.delete"]],
    ["q=100_", []],
    ["action=auth.*&outcome=success&actor=u-ada&q=logout", ["u-ada:auth.logout"]],
    ["category=auth&ip=10.0.0.0/8&from=2026-03-01T10:30:00Z", ["u-ada:auth.logout"]],
  ])("%s", async (query, expected) => {
    expect(await ids(query)).toEqual(expected);
  });
});

describe("bad filters get a 400 problem", () => {
  it.each([
    ["ip=10.0.0.0/33", "ip"],
    ["ip=not-an-ip", "ip"],
    ["category=coffee", "category"],
    ["cursor=garbage", "cursor"],
    ["from=2026-03-05T00:00:00Z&to=2026-03-01T00:00:00Z", "from"],
    ["from=yesterday", "from"],
    ["limit=501", "limit"],
    ["limit=0", "limit"],
    ["action=auth", "action"],
    ["outcome=ok", "outcome"],
    ["colour=red", "colour"],
  ])("%s", async (query, path) => {
    const res = await call(api.url, "GET", `/v1/events?${query}`, { token: reader });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/problem\+json/);
    expect(res.body.errors.map((e: { path: string }) => e.path.split(".")[0]!.replace(/\[\d+\]$/, ""))).toContain(path);
  });

  it("reports every problem of a query at once", async () => {
    const res = await call(api.url, "GET", "/v1/events?limit=0&colour=red&category=coffee", { token: reader });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { path: string }) => e.path.split(".")[0]!.replace(/\[\d+\]$/, "")).sort()).toEqual(["category", "colour", "limit"]);
  });

  it("requires events:read", async () => {
    expect((await call(api.url, "GET", "/v1/events", { token: writer })).status).toBe(403);
  });
});

describe("keyset pagination", () => {
  it("yields every matching event exactly once while events are being appended", async () => {
    const key = await tenantWithKey(api.url, "paging", ["events:write", "events:read"]);
    const base = Array.from({ length: 230 }, (_, i) => ({ actor: { id: `p-${i}`, type: "user" }, action: i % 2 ? "user.update" : "team.update", resource: { type: "t", id: `r-${i}` } }));
    await call(api.url, "POST", "/v1/events", { token: key, body: { events: base } });
    const before = (await call(api.url, "GET", "/v1/events?limit=1&category=users", { token: key })).body.events[0].seq as number;
    const seen: number[] = [];
    let cursor: string | null = null;
    let appended = 0;
    do {
      const page: { status: number; body: { events: { seq: number }[]; nextCursor: string | null } } = await call(api.url, "GET", `/v1/events?limit=37&category=users${cursor ? `&cursor=${cursor}` : ""}`, { token: key });
      expect(page.status).toBe(200);
      seen.push(...page.body.events.map((e) => e.seq));
      cursor = page.body.nextCursor;
      // Appends between pages land above the first page and must not disturb the walk.
      await call(api.url, "POST", "/v1/events", { token: key, body: { events: base.slice(0, 5) .map((e) => ({ ...e, resource: { type: "t", id: `late-${appended++}` } })) } });
    } while (cursor);
    const expected = Array.from({ length: 230 }, (_, i) => i + 2).filter((s) => s <= before).reverse();
    expect(seen).toEqual(expected);
    expect(new Set(seen).size).toBe(seen.length);
  });
});
