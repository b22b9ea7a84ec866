import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApiServer } from "../../../api-server/src/server.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { call, sampleEvent, startTestApi, tenantWithKey, testAdminToken } from "../../support/api.ts";

let db: TestDatabase;
let api: RunningApiServer;
let writer: string;
let reader: string;

beforeAll(async () => {
  db = await freshDatabase();
  api = await startTestApi(db);
  writer = await tenantWithKey(api.url, "alpha", ["events:write"]);
  reader = await tenantWithKey(api.url, "alpha", ["events:read", "events:export", "integrity:read"]);
  await tenantWithKey(api.url, "beta", ["events:write"]);
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

const eventCount = async () => Number((await db.pool.query("SELECT count(*) AS n FROM events")).rows[0].n);

describe("malformed requests: status, stable code, nothing stored", () => {
  const big = "x".repeat(33 * 1024);
  const cases: { name: string; status: number; code: string; path?: string; body?: unknown; raw?: string; contentType?: string; token?: "none" | "bogus" | "reader" }[] = [
    { name: "malformed JSON", status: 400, code: "malformed_json", raw: '{"actor": ' },
    { name: "JSON array body", status: 400, code: "invalid_event", body: [sampleEvent()] },
    { name: "JSON string body", status: 400, code: "invalid_event", raw: '"hello"' },
    { name: "missing actor", status: 400, code: "invalid_event", path: "actor", body: { action: "auth.login", resource: { type: "a", id: "b" } } },
    { name: "missing action", status: 400, code: "invalid_event", path: "action", body: sampleEvent({ action: undefined }) },
    { name: "missing resource", status: 400, code: "invalid_event", path: "resource", body: sampleEvent({ resource: undefined }) },
    { name: "bad actor type", status: 400, code: "invalid_event", path: "actor.type", body: sampleEvent({ actor: { id: "u", type: "robot" } }) },
    { name: "empty actor id", status: 400, code: "invalid_event", path: "actor.id", body: sampleEvent({ actor: { id: "", type: "user" } }) },
    { name: "unknown action prefix", status: 400, code: "unknown_action_prefix", path: "action", body: sampleEvent({ action: "coffee.brew" }) },
    { name: "action without a dot", status: 400, code: "invalid_event", path: "action", body: sampleEvent({ action: "login" }) },
    { name: "bad outcome", status: 400, code: "invalid_event", path: "outcome", body: sampleEvent({ outcome: "ok" }) },
    { name: "id not a UUID", status: 400, code: "invalid_event", path: "id", body: sampleEvent({ id: "123" }) },
    { name: "occurredAt without offset", status: 400, code: "invalid_event", path: "occurredAt", body: sampleEvent({ occurredAt: "2026-01-01T00:00:00" }) },
    { name: "occurredAt not a date", status: 400, code: "invalid_event", path: "occurredAt", body: sampleEvent({ occurredAt: "yesterday" }) },
    { name: "bad client IP", status: 400, code: "invalid_event", path: "clientIp", body: sampleEvent({ clientIp: "300.1.1.1" }) },
    { name: "details not an object", status: 400, code: "invalid_event", path: "details", body: sampleEvent({ details: [1, 2] }) },
    { name: "details over 32 KiB", status: 400, code: "invalid_event", path: "details", body: sampleEvent({ details: { big } }) },
    { name: "NUL in a string", status: 400, code: "invalid_event", path: "resource.id", body: sampleEvent({ resource: { type: "a", id: "a\u0000b" } }) },
    { name: "unknown top-level field", status: 400, code: "invalid_event", body: sampleEvent({ colour: "red" }) },
    { name: "empty batch", status: 400, code: "invalid_event", path: "events", body: { events: [] } },
    { name: "batch over 1000 events", status: 413, code: "too_many_events", body: { events: Array.from({ length: 1001 }, () => sampleEvent()) } },
    { name: "repeated id in a batch", status: 400, code: "duplicate_id_in_batch", body: { events: [sampleEvent({ id: "0192f3a0-0000-7000-8000-00000000000a" }), sampleEvent({ id: "0192f3a0-0000-7000-8000-00000000000a" })] } },
    { name: "one bad event in a batch", status: 400, code: "invalid_event", path: "events[2].actor.type", body: { events: [sampleEvent(), sampleEvent(), sampleEvent({ actor: { id: "u", type: "x" } })] } },
    { name: "body over 5 MiB", status: 413, code: "body_too_large", raw: JSON.stringify({ events: [sampleEvent({ details: { pad: "y".repeat(6 * 1024 * 1024) } })] }) },
    { name: "wrong content type", status: 415, code: "unsupported_media_type", raw: "actor=x", contentType: "application/x-www-form-urlencoded" },
    { name: "text/plain JSON", status: 415, code: "unsupported_media_type", raw: JSON.stringify(sampleEvent()), contentType: "text/plain" },
    { name: "no credentials", status: 401, code: "missing_credentials", body: sampleEvent(), token: "none" },
    { name: "unknown key", status: 401, code: "invalid_credentials", body: sampleEvent(), token: "bogus" },
    { name: "key without events:write", status: 403, code: "missing_scope", body: sampleEvent(), token: "reader" },
    { name: "event naming another tenant", status: 403, code: "tenant_mismatch", path: "tenant", body: sampleEvent({ tenant: "beta" }) },
  ];

  it("covers at least 20 cases", () => expect(cases.length).toBeGreaterThanOrEqual(20));

  it.each(cases)("$name → $status $code", async (c) => {
    const before = await eventCount();
    const token = c.token === "none" ? undefined : c.token === "bogus" ? "tk_not-a-real-key" : c.token === "reader" ? reader : writer;
    const res = await call(api.url, "POST", "/v1/events", { token, body: c.body, raw: c.raw, contentType: c.contentType });
    expect(res.status).toBe(c.status);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: c.status, code: c.code });
    if (c.path) expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(c.path);
    expect(await eventCount()).toBe(before);
  });
});

describe("tenancy and scopes", () => {
  it("stores an event under its key's tenant only, and accepts a body naming its own tenant", async () => {
    const res = await call(api.url, "POST", "/v1/events", { token: writer, body: sampleEvent({ tenant: "alpha", action: "user.create" }) });
    expect(res.status).toBe(201);
    const rows = (await db.pool.query("SELECT tenant FROM events WHERE id = $1", [res.body.events[0].id])).rows;
    expect(rows).toEqual([{ tenant: "alpha" }]);
    expect(Number((await db.pool.query("SELECT count(*) AS n FROM events WHERE tenant = 'beta' AND action = 'user.create'")).rows[0].n)).toBe(0);
  });

  it("enforces the admin token on every admin route", async () => {
    for (const [method, path] of [["POST", "/v1/admin/tenants"], ["GET", "/v1/admin/tenants/alpha/api-keys"], ["POST", "/v1/admin/tenants/alpha/api-keys"], ["DELETE", "/v1/admin/tenants/alpha/api-keys/x"]] as const) {
      const body = method === "POST" ? {} : undefined;
      expect((await call(api.url, method, path, { body })).status).toBe(401);
      expect((await call(api.url, method, path, { token: writer, body })).status).toBe(401);
    }
  });
});

describe("admin API", () => {
  it("lists keys without secrets, revokes them (recorded in the chain) and the revoked key stops working", async () => {
    const created = await call(api.url, "POST", "/v1/admin/tenants/beta/api-keys", { token: testAdminToken, body: { scopes: ["events:write"], name: "ci" } });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^tk_[A-Za-z0-9_-]{43}$/);
    const list = await call(api.url, "GET", "/v1/admin/tenants/beta/api-keys", { token: testAdminToken });
    expect(JSON.stringify(list.body)).not.toContain(created.body.key);
    expect(list.body.apiKeys.find((k: { id: string }) => k.id === created.body.id)).toMatchObject({ name: "ci", scopes: ["events:write"], revokedAt: null });
    expect((await call(api.url, "POST", "/v1/events", { token: created.body.key, body: sampleEvent() })).status).toBe(201);
    const revoked = await call(api.url, "DELETE", `/v1/admin/tenants/beta/api-keys/${created.body.id}`, { token: testAdminToken });
    expect(revoked.status).toBe(204);
    expect((await call(api.url, "POST", "/v1/events", { token: created.body.key, body: sampleEvent() })).status).toBe(401);
    expect((await call(api.url, "DELETE", `/v1/admin/tenants/beta/api-keys/${created.body.id}`, { token: testAdminToken })).status).toBe(404);
    const recorded = (await db.pool.query("SELECT action, resource_id FROM events WHERE tenant = 'beta' AND action LIKE 'apikey.%' ORDER BY seq")).rows;
    expect(recorded.filter((r) => r.resource_id === created.body.id).map((r) => r.action)).toEqual(["apikey.create", "apikey.revoke"]);
    const stored = (await db.pool.query("SELECT key_hash FROM api_keys WHERE id = $1", [created.body.id])).rows[0];
    expect(stored.key_hash).not.toContain(created.body.key);
  });

  it("rejects bad admin input with problems", async () => {
    const badTenant = await call(api.url, "POST", "/v1/admin/tenants", { token: testAdminToken, body: { id: "Not_A_Label" } });
    expect(badTenant).toMatchObject({ status: 400, body: { code: "invalid_request" } });
    const badScope = await call(api.url, "POST", "/v1/admin/tenants/alpha/api-keys", { token: testAdminToken, body: { scopes: ["events:delete"] } });
    expect(badScope).toMatchObject({ status: 400, body: { code: "invalid_request" } });
    const noTenant = await call(api.url, "POST", "/v1/admin/tenants/nobody/api-keys", { token: testAdminToken, body: { scopes: ["events:read"] } });
    expect(noTenant).toMatchObject({ status: 404, body: { code: "unknown_tenant" } });
  });

  it("refuses admin and viewer-session text PostgreSQL cannot store as sent: 400, nothing stored", async () => {
    const minter = await tenantWithKey(api.url, "alpha", ["viewer:create", "events:read"]);
    const rows = async () => (await db.pool.query("SELECT (SELECT count(*) FROM api_keys) AS k, (SELECT count(*) FROM viewer_links) AS l")).rows[0];
    const [before, events] = [await rows(), await eventCount()];
    for (const bad of ["a\u0000b", "lone \ud800 surrogate", "\udc00"]) {
      const key = await call(api.url, "POST", "/v1/admin/tenants/alpha/api-keys", { token: testAdminToken, body: { scopes: ["events:read"], name: bad } });
      expect(key, JSON.stringify(bad)).toMatchObject({ status: 400, body: { code: "invalid_request", errors: [{ path: "name" }] } });
      const adminLink = await call(api.url, "POST", "/v1/admin/tenants/alpha/viewer-sessions", { token: testAdminToken, body: { subject: bad } });
      expect(adminLink).toMatchObject({ status: 400, body: { code: "invalid_request", errors: [{ path: "subject" }] } });
      const keyLink = await call(api.url, "POST", "/v1/viewer-sessions", { token: minter, body: { subject: bad } });
      expect(keyLink).toMatchObject({ status: 400, body: { code: "invalid_request", errors: [{ path: "subject" }] } });
    }
    // A tenant in the path that is no tenant id (NUL included) is unknown, not a database error.
    for (const path of ["/v1/admin/tenants/a%00b/api-keys", "/v1/admin/tenants/a%00b/viewer-sessions", "/v1/admin/tenants/%F0%9F%98%80/api-keys"]) {
      const res = await call(api.url, "POST", path, { token: testAdminToken, body: { scopes: ["events:read"] } });
      expect(res, path).toMatchObject({ status: 404, body: { code: "unknown_tenant" } });
      expect((await call(api.url, "GET", path, { token: testAdminToken })).status, path).toBe(404);
    }
    const revoke = await call(api.url, "DELETE", "/v1/admin/tenants/a%00b/api-keys/0192f3a0-0000-7000-8000-00000000000a", { token: testAdminToken });
    expect(revoke).toMatchObject({ status: 404, body: { code: "unknown_tenant" } });
    expect(await rows()).toEqual(before);
    expect(await eventCount()).toBe(events);

    // Well-formed text, astral characters included, is stored and echoed exactly as sent.
    const name = "backend \u{1F600} ü";
    const ok = await call(api.url, "POST", "/v1/admin/tenants/alpha/api-keys", { token: testAdminToken, body: { scopes: ["events:read"], name } });
    expect(ok).toMatchObject({ status: 201, body: { name } });
    expect((await db.pool.query("SELECT name FROM api_keys WHERE id = $1", [ok.body.id])).rows[0].name).toBe(name);
  });
});

describe("operations", () => {
  it("serves healthz, readyz, metrics and an OpenAPI 3.1 document", async () => {
    expect((await call(api.url, "GET", "/healthz")).status).toBe(200);
    expect((await call(api.url, "GET", "/readyz")).body).toEqual({ status: "ready" });
    const metrics = await call(api.url, "GET", "/metrics");
    expect(metrics.body).toMatch(/trailkeeper_events_appended_total \d+/);
    expect(metrics.body).toMatch(/trailkeeper_http_requests_total\{method="POST",route="\/v1\/events",status="201"\}/);
    expect(metrics.body).toMatch(/trailkeeper_db_pool_connections/);
    const doc = await call(api.url, "GET", "/openapi.json");
    expect(doc.body.openapi).toBe("3.1.0");
    expect(doc.body.components.schemas.EventInput.properties.action).toBeDefined();
  });
});
