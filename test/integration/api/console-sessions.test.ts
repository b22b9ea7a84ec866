import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApiServer } from "../../../api-server/src/server.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { call, sampleEvent, startTestApi, tenantWithKey, testAdminToken, type Call } from "../../support/api.ts";

let db: TestDatabase;
let api: RunningApiServer;
/** Same database, sessions that live one second, cookies always Secure, and a public URL for links. */
let shortLived: RunningApiServer;
let writer: string;
let reader: string; // events:read + integrity:read, no export
let full: string; // every viewer scope
let writeOnly: string;
let minter: string; // viewer:create + events:read
let betaReader: string;
let keyIds: Record<string, string>;

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

interface Browser {
  cookie?: string;
  csrf?: string;
}

/** A request as the console sends it: the session cookie, and the CSRF header when asked. */
async function send(base: string, method: string, path: string, opts: { cookie?: string; csrf?: string; body?: unknown; token?: string; headers?: Record<string, string> } = {}): Promise<Call> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.cookie) headers.cookie = `theme=dark; tk_console=${opts.cookie}; other=1`;
  if (opts.csrf !== undefined) headers["x-csrf-token"] = opts.csrf;
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(base + path, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

function sessionCookie(res: Call): { value: string; attributes: string[] } {
  const set = res.headers.getSetCookie();
  expect(set).toHaveLength(1);
  const [pair, ...attributes] = set[0]!.split(";").map((s) => s.trim());
  expect(pair).toMatch(/^tk_console=/);
  return { value: pair!.slice("tk_console=".length), attributes };
}

async function signInWithKey(base: string, apiKey: string): Promise<Browser & { res: Call }> {
  const res = await send(base, "POST", "/v1/console/sessions", { body: { apiKey } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { res, cookie: sessionCookie(res).value, csrf: res.body.csrfToken };
}

async function mintAdmin(tenant: string, body: Record<string, unknown> = {}): Promise<Call> {
  return call(api.url, "POST", `/v1/admin/tenants/${tenant}/viewer-sessions`, { token: testAdminToken, body });
}

const tokenOf = (url: string) => new URL(url).hash.replace(/^#token=/, "");

/** The fields of a stored event these tests read. */
interface Ev {
  tenant: string;
  action: string;
  outcome: string;
  actor: { id: string; type: string };
  resource: { type: string; id: string };
  details?: Record<string, unknown>;
}

async function auditEvents(key: string, action: string): Promise<Ev[]> {
  const res = await call(api.url, "GET", `/v1/events?action=${action}&limit=100`, { token: key });
  expect(res.status).toBe(200);
  return res.body.events;
}

beforeAll(async () => {
  db = await freshDatabase();
  api = await startTestApi(db);
  shortLived = await startTestApi(db, { TRAILKEEPER_CONSOLE_SESSION_TTL: "1s", TRAILKEEPER_CONSOLE_SECURE_COOKIE: "true", TRAILKEEPER_PUBLIC_URL: "https://audit.example.com/" });
  writer = await tenantWithKey(api.url, "alpha", ["events:write"]);
  reader = await tenantWithKey(api.url, "alpha", ["events:read", "integrity:read"]);
  full = await tenantWithKey(api.url, "alpha", ["events:read", "events:export", "integrity:read", "events:write"]);
  writeOnly = await tenantWithKey(api.url, "alpha", ["events:write"]);
  minter = await tenantWithKey(api.url, "alpha", ["viewer:create", "events:read"]);
  betaReader = await tenantWithKey(api.url, "beta", ["events:read", "events:write"]);
  const rows = await db.pool.query<{ id: string; key_hash: string }>("SELECT id, key_hash FROM api_keys");
  const byHash = new Map(rows.rows.map((r) => [r.key_hash, r.id]));
  keyIds = Object.fromEntries(Object.entries({ reader, full, writeOnly, minter }).map(([n, k]) => [n, byHash.get(sha256(k))!]));
  await call(api.url, "POST", "/v1/events", { token: writer, body: { events: [sampleEvent({ action: "auth.login" }), sampleEvent()] } });
  await call(api.url, "POST", "/v1/events", { token: betaReader, body: sampleEvent({ action: "secret.reveal" }) });
});
afterAll(async () => {
  await Promise.all([api?.close(), shortLived?.close()]);
  await db?.drop();
});

describe("sign-in with an API key", () => {
  it("answers 201 with the session and an HttpOnly, SameSite=Strict cookie whose token is stored only as a hash", async () => {
    const { res, cookie } = await signInWithKey(api.url, reader);
    expect(res.body).toEqual({ id: expect.any(String), tenant: "alpha", scopes: ["events:read", "integrity:read"], expiresAt: expect.any(String), csrfToken: expect.any(String), via: "api_key" });
    const ttl = Date.parse(res.body.expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(8 * 3600_000 - 60_000);
    expect(ttl).toBeLessThanOrEqual(8 * 3600_000);
    const { attributes } = sessionCookie(res);
    expect(attributes).toEqual(expect.arrayContaining(["Path=/", "HttpOnly", "SameSite=Strict"]));
    expect(attributes).not.toContain("Secure");
    expect(Number(attributes.find((a) => a.startsWith("Max-Age="))!.slice(8))).toBeGreaterThan(8 * 3600 - 60);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const stored = await db.pool.query("SELECT * FROM viewer_sessions WHERE id = $1", [res.body.id]);
    expect(stored.rows[0].token_hash).toBe(sha256(cookie!));
    expect(JSON.stringify(stored.rows)).not.toContain(cookie);
    expect(JSON.stringify(stored.rows)).not.toContain(res.body.csrfToken);
  });

  it("marks the cookie Secure when a proxy says the browser came over HTTPS (auto mode)", async () => {
    const res = await send(api.url, "POST", "/v1/console/sessions", { body: { apiKey: reader }, headers: { "x-forwarded-proto": "https" } });
    expect(res.status).toBe(201);
    expect(sessionCookie(res).attributes).toContain("Secure");
  });

  it("keeps only the viewer scopes of a key that holds more", async () => {
    const { res } = await signInWithKey(api.url, full);
    expect(res.body.scopes).toEqual(["events:read", "events:export", "integrity:read"]);
  });

  it("refuses an unknown key (401) and a key without events:read (403), recording the refusal in the tenant's chain", async () => {
    const bad = await send(api.url, "POST", "/v1/console/sessions", { body: { apiKey: "tk_not-a-key" } });
    expect([bad.status, bad.body.code]).toEqual([401, "invalid_credentials"]);
    expect(bad.headers.getSetCookie()).toEqual([]);
    const weak = await send(api.url, "POST", "/v1/console/sessions", { body: { apiKey: writeOnly } });
    expect([weak.status, weak.body.code]).toEqual([403, "missing_scope"]);
    const failures = (await auditEvents(reader, "audit.console.signin")).filter((e) => e.outcome === "failure" && e.actor.id === keyIds.writeOnly);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ resource: { type: "api_key", id: keyIds.writeOnly }, details: { via: "api_key", reason: "missing_scope" } });
  });

  it("answers malformed bodies with 400 problems", async () => {
    for (const body of [{}, { apiKey: 42 }, { apiKey: "" }, { apiKey: reader, extra: 1 }]) {
      const res = await send(api.url, "POST", "/v1/console/sessions", { body });
      expect([res.status, res.body.code], JSON.stringify(body)).toEqual([400, "invalid_request"]);
    }
    const form = await fetch(`${api.url}/v1/console/sessions`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `apiKey=${reader}` });
    expect(form.status).toBe(415);
  });

  it("records the sign-in as audit.console.signin with the key as actor", async () => {
    const { res } = await signInWithKey(api.url, reader);
    const [event] = (await auditEvents(reader, "audit.console.signin")).filter((e) => e.details?.sessionId === res.body.id);
    expect(event).toMatchObject({
      category: "audit", outcome: "success", actor: { id: keyIds.reader, type: "service" },
      resource: { type: "console_session", id: res.body.id }, sessionId: res.body.id,
      details: { via: "api_key", sessionId: res.body.id, scopes: ["events:read", "integrity:read"] },
    });
  });
});

describe("the session cookie on tenant routes", () => {
  it("serves every tenant GET route with the session's scopes, and refuses export without events:export", async () => {
    const s = await signInWithKey(api.url, reader);
    const events = await send(api.url, "GET", "/v1/events", { cookie: s.cookie });
    expect(events.status).toBe(200);
    expect(events.body.events.map((e: Ev) => e.tenant)).toContain("alpha");
    for (const p of ["/v1/integrity/verify", "/v1/integrity/checkpoints", "/v1/integrity/public-key"]) {
      expect((await send(api.url, "GET", p, { cookie: s.cookie })).status, p).toBe(200);
    }
    const latest = await send(api.url, "GET", "/v1/integrity/checkpoints/latest", { cookie: s.cookie });
    expect([200, 404]).toContain(latest.status);
    if (latest.status === 404) expect(latest.body.code).toBe("no_checkpoint");
    const exp = await send(api.url, "GET", "/v1/events/export?format=jsonl", { cookie: s.cookie });
    expect([exp.status, exp.body.code]).toEqual([403, "missing_scope"]);
  });

  it("exports with a session holding events:export, recording the session's actor", async () => {
    const s = await signInWithKey(api.url, full);
    const res = await fetch(`${api.url}/v1/events/export?format=jsonl&action=auth.login`, { headers: { cookie: `tk_console=${s.cookie}` } });
    expect(res.status).toBe(200);
    const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((e) => e.action === "auth.login")).toBe(true);
    const exports = await auditEvents(reader, "audit.export");
    expect(exports.some((e) => e.actor.id === keyIds.full)).toBe(true);
  });

  it("needs the CSRF header on state-changing requests, and never grants write scopes", async () => {
    const s = await signInWithKey(api.url, full);
    const before = Number((await db.pool.query("SELECT count(*) AS n FROM events")).rows[0].n);
    const noCsrf = await send(api.url, "POST", "/v1/events", { cookie: s.cookie, body: sampleEvent() });
    expect([noCsrf.status, noCsrf.body.code]).toEqual([403, "csrf"]);
    const withCsrf = await send(api.url, "POST", "/v1/events", { cookie: s.cookie, csrf: s.csrf, body: sampleEvent() });
    expect([withCsrf.status, withCsrf.body.code]).toEqual([403, "missing_scope"]);
    expect(Number((await db.pool.query("SELECT count(*) AS n FROM events")).rows[0].n)).toBe(before);
  });

  it("answers an unknown cookie with 401 no_session, and prefers a bearer key over a cookie", async () => {
    const res = await send(api.url, "GET", "/v1/events", { cookie: "forged" });
    expect([res.status, res.body.code]).toEqual([401, "no_session"]);
    const both = await send(api.url, "GET", "/v1/events", { cookie: "forged", token: reader });
    expect(both.status).toBe(200);
  });

  it("keeps tenants apart", async () => {
    const beta = await signInWithKey(api.url, betaReader);
    const res = await send(api.url, "GET", "/v1/events?limit=100", { cookie: beta.cookie });
    expect(res.status).toBe(200);
    expect(res.body.events.length).toBeGreaterThan(0);
    expect(res.body.events.every((e: Ev) => e.tenant === "beta")).toBe(true);
    // The beta session's sign-in is in beta's chain, not alpha's.
    const alphaSignins = await auditEvents(reader, "audit.console.signin");
    expect(alphaSignins.some((e) => e.details?.sessionId === beta.res.body.id)).toBe(false);
    const betaSignins = await auditEvents(betaReader, "audit.console.signin");
    expect(betaSignins.some((e) => e.details?.sessionId === beta.res.body.id)).toBe(true);
  });
});

describe("GET and DELETE /v1/console/session", () => {
  it("returns the current session without setting a cookie", async () => {
    const s = await signInWithKey(api.url, reader);
    const res = await send(api.url, "GET", "/v1/console/session", { cookie: s.cookie });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(s.res.body);
    expect(res.headers.getSetCookie()).toEqual([]);
    const none = await send(api.url, "GET", "/v1/console/session");
    expect([none.status, none.body.code]).toEqual([401, "no_session"]);
  });

  it("signs out only with the session's CSRF token, clears the cookie, and the session is gone on the next request", async () => {
    const s = await signInWithKey(api.url, reader);
    const missing = await send(api.url, "DELETE", "/v1/console/session", { cookie: s.cookie });
    expect([missing.status, missing.body.code]).toEqual([403, "csrf"]);
    const wrong = await send(api.url, "DELETE", "/v1/console/session", { cookie: s.cookie, csrf: `${s.csrf}x` });
    expect([wrong.status, wrong.body.code]).toEqual([403, "csrf"]);
    const other = await signInWithKey(api.url, reader);
    const crossed = await send(api.url, "DELETE", "/v1/console/session", { cookie: s.cookie, csrf: other.csrf });
    expect([crossed.status, crossed.body.code]).toEqual([403, "csrf"]);
    expect((await send(api.url, "GET", "/v1/console/session", { cookie: s.cookie })).status).toBe(200);

    const out = await send(api.url, "DELETE", "/v1/console/session", { cookie: s.cookie, csrf: s.csrf });
    expect(out.status).toBe(204);
    const cleared = sessionCookie(out);
    expect(cleared.value).toBe("");
    expect(cleared.attributes).toEqual(expect.arrayContaining(["Max-Age=0", "Path=/", "HttpOnly", "SameSite=Strict"]));
    const after = await send(api.url, "GET", "/v1/console/session", { cookie: s.cookie });
    expect([after.status, after.body.code]).toEqual([401, "session_revoked"]);
    const events = await send(api.url, "GET", "/v1/events", { cookie: s.cookie });
    expect([events.status, events.body.code]).toEqual([401, "session_revoked"]);
    const [signout] = (await auditEvents(reader, "audit.console.signout")).filter((e) => e.resource.id === s.res.body.id);
    expect(signout).toMatchObject({ outcome: "success", actor: { id: keyIds.reader }, details: { via: "api_key", sessionId: s.res.body.id } });
  });

  it("ends the sessions of an API key when the key is revoked", async () => {
    const key = await tenantWithKey(api.url, "alpha", ["events:read"]);
    const s = await signInWithKey(api.url, key);
    const id = (await db.pool.query("SELECT id FROM api_keys WHERE key_hash = $1", [sha256(key)])).rows[0].id;
    expect((await call(api.url, "DELETE", `/v1/admin/tenants/alpha/api-keys/${id}`, { token: testAdminToken })).status).toBe(204);
    const res = await send(api.url, "GET", "/v1/events", { cookie: s.cookie });
    expect([res.status, res.body.code]).toEqual([401, "session_revoked"]);
    const again = await send(api.url, "POST", "/v1/console/sessions", { body: { apiKey: key } });
    expect([again.status, again.body.code]).toEqual([401, "invalid_credentials"]);
    const refused = (await auditEvents(reader, "audit.console.signin")).filter((e) => e.actor.id === id && e.outcome === "failure");
    expect(refused).toMatchObject([{ resource: { type: "api_key", id }, details: { reason: "key_revoked" } }]);
  });
});

describe("sessions expire", () => {
  it("answers 401 session_expired once the TTL has passed, and marks the cookie Secure when configured", async () => {
    const s = await signInWithKey(shortLived.url, reader);
    expect(sessionCookie(s.res).attributes).toContain("Secure");
    expect(Date.parse(s.res.body.expiresAt) - Date.now()).toBeLessThanOrEqual(1000);
    let res = await send(shortLived.url, "GET", "/v1/events", { cookie: s.cookie });
    const deadline = Date.now() + 10_000;
    while (res.status === 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      res = await send(shortLived.url, "GET", "/v1/events", { cookie: s.cookie });
    }
    expect([res.status, res.body.code]).toEqual([401, "session_expired"]);
    const mine = await send(shortLived.url, "GET", "/v1/console/session", { cookie: s.cookie });
    expect([mine.status, mine.body.code]).toEqual([401, "session_expired"]);
  });
});

describe("one-time sign-in links", () => {
  it("mints a link (admin) whose token is stored only as a hash, and records the mint", async () => {
    const res = await mintAdmin("alpha", { subject: "auditor@example.com", ttlSeconds: 600 });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.any(String), token: expect.any(String), url: `${api.url}/signin#token=${res.body.token}`, expiresAt: expect.any(String), scopes: ["events:read", "events:export", "integrity:read", "config:read"], subject: "auditor@example.com" });
    expect(Date.parse(res.body.expiresAt) - Date.now()).toBeGreaterThan(590_000);
    const row = (await db.pool.query("SELECT * FROM viewer_links WHERE id = $1", [res.body.id])).rows[0];
    expect(row.token_hash).toBe(sha256(res.body.token));
    expect(JSON.stringify(row)).not.toContain(res.body.token);
    const [minted] = (await auditEvents(reader, "audit.viewer_session.create")).filter((e) => e.resource.id === res.body.id);
    expect(minted).toMatchObject({ actor: { id: "admin", type: "system" }, resource: { type: "viewer_link" }, details: { subject: "auditor@example.com", scopes: res.body.scopes } });
  });

  it("exchanges a link once for a session acting as the link's subject; a second exchange is 401 invalid_link", async () => {
    const link = await mintAdmin("alpha", { scopes: ["events:read"], subject: "auditor@example.com" });
    const first = await send(api.url, "POST", "/v1/console/sessions/exchange", { body: { token: tokenOf(link.body.url) } });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ tenant: "alpha", scopes: ["events:read"], via: "link" });
    const { value: cookie, attributes } = sessionCookie(first);
    expect(attributes).toEqual(expect.arrayContaining(["HttpOnly", "SameSite=Strict", "Path=/"]));
    expect((await send(api.url, "GET", "/v1/events", { cookie })).status).toBe(200);
    expect((await send(api.url, "GET", "/v1/integrity/verify", { cookie })).body.code).toBe("missing_scope");

    const second = await send(api.url, "POST", "/v1/console/sessions/exchange", { body: { token: link.body.token } });
    expect([second.status, second.body.code, second.body.detail]).toEqual([401, "invalid_link", "this sign-in link was already used or has expired"]);
    expect(second.headers.getSetCookie()).toEqual([]);

    const signins = (await auditEvents(reader, "audit.console.signin")).filter((e) => e.actor.id === "auditor@example.com");
    expect(signins.find((e) => e.outcome === "success")).toMatchObject({ actor: { type: "user" }, details: { via: "link", sessionId: first.body.id, scopes: ["events:read"] } });
    expect(signins.find((e) => e.outcome === "failure")).toMatchObject({ resource: { type: "viewer_link", id: link.body.id }, details: { reason: "link_already_used" } });
  });

  it("lets only one of two concurrent exchanges of the same link win", async () => {
    const link = await mintAdmin("alpha");
    const results = await Promise.all([0, 1, 2].map(() => send(api.url, "POST", "/v1/console/sessions/exchange", { body: { token: link.body.token } })));
    expect(results.map((r) => r.status).sort()).toEqual([201, 401, 401]);
    expect((await db.pool.query("SELECT count(*)::int AS n FROM viewer_sessions WHERE link_id = $1", [link.body.id])).rows[0].n).toBe(1);
  });

  it("refuses an expired link and an unknown token", async () => {
    const link = await mintAdmin("alpha");
    await db.pool.query("UPDATE viewer_links SET created_at = now() - interval '2 hours', expires_at = now() - interval '1 second' WHERE id = $1", [link.body.id]);
    const res = await send(api.url, "POST", "/v1/console/sessions/exchange", { body: { token: link.body.token } });
    expect([res.status, res.body.code]).toEqual([401, "invalid_link"]);
    const unknown = await send(api.url, "POST", "/v1/console/sessions/exchange", { body: { token: "no-such-token" } });
    expect([unknown.status, unknown.body.code]).toEqual([401, "invalid_link"]);
    const failures = (await auditEvents(reader, "audit.console.signin")).filter((e) => e.resource.id === link.body.id);
    expect(failures).toMatchObject([{ outcome: "failure", details: { reason: "link_expired" } }]);
  });

  it("revokes a link and every session made from it (admin), effective on the next request", async () => {
    const link = await mintAdmin("alpha");
    const ex = await send(api.url, "POST", "/v1/console/sessions/exchange", { body: { token: link.body.token } });
    const cookie = sessionCookie(ex).value;
    const unused = await mintAdmin("alpha");

    const listed = await call(api.url, "GET", "/v1/admin/tenants/alpha/viewer-sessions", { token: testAdminToken });
    expect(listed.status).toBe(200);
    expect(listed.body.viewerSessions.find((l: { id: string }) => l.id === link.body.id)).toMatchObject({ usedAt: expect.any(String), revokedAt: null, liveSessions: 1, createdBy: "admin" });
    expect(JSON.stringify(listed.body)).not.toContain(link.body.token);

    expect((await call(api.url, "DELETE", `/v1/admin/tenants/beta/viewer-sessions/${link.body.id}`, { token: testAdminToken })).status).toBe(404);
    expect((await send(api.url, "GET", "/v1/events", { cookie })).status).toBe(200);
    expect((await call(api.url, "DELETE", `/v1/admin/tenants/alpha/viewer-sessions/${link.body.id}`, { token: testAdminToken })).status).toBe(204);
    const after = await send(api.url, "GET", "/v1/events", { cookie });
    expect([after.status, after.body.code]).toEqual([401, "session_revoked"]);

    expect((await call(api.url, "DELETE", `/v1/admin/tenants/alpha/viewer-sessions/${unused.body.id}`, { token: testAdminToken })).status).toBe(204);
    const refused = await send(api.url, "POST", "/v1/console/sessions/exchange", { body: { token: unused.body.token } });
    expect([refused.status, refused.body.code]).toEqual([401, "invalid_link"]);
    const again = await call(api.url, "DELETE", `/v1/admin/tenants/alpha/viewer-sessions/${unused.body.id}`, { token: testAdminToken });
    expect([again.status, again.body.code]).toEqual([404, "unknown_viewer_session"]);
    const revokes = (await auditEvents(reader, "audit.viewer_session.revoke")).map((e) => [e.resource.id, e.details?.sessionsRevoked]);
    expect(revokes).toEqual(expect.arrayContaining([[link.body.id, 1], [unused.body.id, 0]]));
  });

  it("builds link URLs from TRAILKEEPER_PUBLIC_URL when set, else from the request's scheme and Host", async () => {
    const viaPublic = await call(shortLived.url, "POST", "/v1/admin/tenants/alpha/viewer-sessions", { token: testAdminToken, body: {} });
    expect(viaPublic.body.url).toBe(`https://audit.example.com/signin#token=${viaPublic.body.token}`);
    const proxied = await send(api.url, "POST", "/v1/admin/tenants/alpha/viewer-sessions", { token: testAdminToken, body: {}, headers: { "x-forwarded-proto": "https" } });
    expect(proxied.body.url).toBe(`${api.url.replace(/^http:/, "https:")}/signin#token=${proxied.body.token}`);
  });

  it("validates mint requests", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ttlSeconds: 86_401 }, "ttlSeconds"], [{ ttlSeconds: 5 }, "ttlSeconds"], [{ ttlSeconds: "900" }, "ttlSeconds"],
      [{ scopes: ["integrity:read"] }, "scopes"], [{ scopes: ["events:write"] }, "scopes[0]"], [{ scopes: ["events:read", "events:read"] }, "scopes"],
      [{ subject: "" }, "subject"], [{ colour: "red" }, ""],
    ];
    for (const [body, path] of cases) {
      const res = await mintAdmin("alpha", body);
      expect([res.status, res.body.code], JSON.stringify(body)).toEqual([400, "invalid_request"]);
      expect(res.body.errors.map((e: { path: string }) => e.path), JSON.stringify(body)).toContain(path);
    }
    expect((await mintAdmin("nosuch")).body.code).toBe("unknown_tenant");
    const bodyless = await fetch(`${api.url}/v1/admin/tenants/alpha/viewer-sessions`, { method: "POST", headers: { authorization: `Bearer ${testAdminToken}` } });
    expect(bodyless.status).toBe(201);
    const form = await call(api.url, "POST", "/v1/admin/tenants/alpha/viewer-sessions", { token: testAdminToken, raw: "ttlSeconds=60", contentType: "application/x-www-form-urlencoded" });
    expect([form.status, form.body.code]).toEqual([415, "unsupported_media_type"]);
    expect((await call(api.url, "POST", "/v1/admin/tenants/alpha/viewer-sessions", { token: reader, body: {} })).status).toBe(401);
  });
});

describe("minting with a tenant key holding viewer:create", () => {
  it("mints links for the key's own tenant, within the key's scopes, recorded with the key as actor", async () => {
    const res = await call(api.url, "POST", "/v1/viewer-sessions", { token: minter, body: { subject: "customer-7" } });
    expect(res.status).toBe(201);
    expect(res.body.scopes).toEqual(["events:read"]);
    const ex = await send(api.url, "POST", "/v1/console/sessions/exchange", { body: { token: res.body.token } });
    expect(ex.body).toMatchObject({ tenant: "alpha", via: "link", scopes: ["events:read"] });
    const [minted] = (await auditEvents(reader, "audit.viewer_session.create")).filter((e) => e.resource.id === res.body.id);
    expect(minted?.actor).toEqual({ id: keyIds.minter, type: "service" });

    const tooMuch = await call(api.url, "POST", "/v1/viewer-sessions", { token: minter, body: { scopes: ["events:read", "events:export"] } });
    expect([tooMuch.status, tooMuch.body.code]).toEqual([403, "missing_scope"]);
    const noScope = await call(api.url, "POST", "/v1/viewer-sessions", { token: reader, body: {} });
    expect([noScope.status, noScope.body.code]).toEqual([403, "missing_scope"]);
    const session = await signInWithKey(api.url, full);
    const byCookie = await send(api.url, "POST", "/v1/viewer-sessions", { cookie: session.cookie, csrf: session.csrf, body: {} });
    expect([byCookie.status, byCookie.body.code]).toEqual([403, "missing_scope"]);
  });

  it("grants configuration testing and saving only when asked, and a session signed in with such a key holds them", async () => {
    const admin = await tenantWithKey(api.url, "alpha", ["viewer:create", "events:read", "config:read", "config:test", "config:write"]);
    const byDefault = await call(api.url, "POST", "/v1/viewer-sessions", { token: admin, body: {} });
    expect(byDefault.body.scopes).toEqual(["events:read", "config:read"]);
    const asked = await call(api.url, "POST", "/v1/viewer-sessions", { token: admin, body: { scopes: ["events:read", "config:read", "config:test", "config:write"] } });
    expect(asked.status).toBe(201);
    const ex = await send(api.url, "POST", "/v1/console/sessions/exchange", { body: { token: asked.body.token } });
    expect(ex.body.scopes).toEqual(["events:read", "config:read", "config:test", "config:write"]);
    const { res } = await signInWithKey(api.url, admin);
    expect(res.body.scopes).toEqual(["events:read", "config:read", "config:test", "config:write"]);
  });
});
