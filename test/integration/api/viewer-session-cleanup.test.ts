import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApiServer } from "../../../api-server/src/server.ts";
import { deleteEndedViewerSessions } from "../../../api-server/src/services/viewer-sessions.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { call, startTestApi, tenantWithKey, testAdminToken } from "../../support/api.ts";

/** Ended console sessions and sign-in links are deleted a day after they end; live ones and the chain stay. */

let db: TestDatabase;
let api: RunningApiServer;
let reader: string;

beforeAll(async () => {
  db = await freshDatabase();
  api = await startTestApi(db);
  reader = await tenantWithKey(api.url, "gamma", ["events:read"]);
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

const cookieOf = (setCookie: string[]) => setCookie[0]!.split(";")[0]!.replace(/^tk_console=/, "");

async function keySession(): Promise<{ id: string; cookie: string }> {
  const res = await call(api.url, "POST", "/v1/console/sessions", { body: { apiKey: reader } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.id, cookie: cookieOf(res.headers.getSetCookie()) };
}

async function mintLink(): Promise<{ id: string; token: string }> {
  const res = await call(api.url, "POST", "/v1/admin/tenants/gamma/viewer-sessions", { token: testAdminToken, body: {} });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.id, token: res.body.token };
}

async function exchange(token: string): Promise<{ id: string; cookie: string }> {
  const res = await call(api.url, "POST", "/v1/console/sessions/exchange", { body: { token } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.id, cookie: cookieOf(res.headers.getSetCookie()) };
}

/** Moves a row's times into the past, as if it had been made `hoursAgo` hours ago and ended then. */
async function age(table: "viewer_sessions" | "viewer_links", id: string, column: "expires_at" | "revoked_at", hoursAgo: number): Promise<void> {
  const past = `now() - make_interval(hours => ${hoursAgo})`;
  await db.pool.query(`UPDATE ${table} SET created_at = ${past} - interval '1 minute', ${column} = ${past} WHERE id = $1`, [id]);
}

const ids = async (table: "viewer_sessions" | "viewer_links") => (await db.pool.query<{ id: string }>(`SELECT id FROM ${table} ORDER BY id`)).rows.map((r) => r.id).sort();
const eventCount = async () => Number((await db.pool.query("SELECT count(*) AS n FROM events")).rows[0].n);
const sessionStatus = async (cookie: string) => (await fetch(`${api.url}/v1/console/session`, { headers: { cookie: `tk_console=${cookie}` } })).status;

describe("clean-up of ended console sessions and sign-in links", () => {
  it("deletes what ended more than a day ago and keeps live and recently ended rows and every audit event", async () => {
    const expiredLong = await keySession();
    const revokedLong = await keySession();
    const revokedRecently = await keySession();
    const expiredRecently = await keySession();
    const live = await keySession();
    const unusedExpiredLink = await mintLink();
    const revokedLink = await mintLink();
    const liveLink = await mintLink();
    // A used link that expired long ago but whose session is still live: the session reads revocation through it.
    const usedLink = await mintLink();
    const fromUsedLink = await exchange(usedLink.token);

    await age("viewer_sessions", expiredLong.id, "expires_at", 25);
    await age("viewer_sessions", revokedLong.id, "revoked_at", 25);
    await age("viewer_sessions", revokedRecently.id, "revoked_at", 23);
    await age("viewer_sessions", expiredRecently.id, "expires_at", 1);
    await age("viewer_links", unusedExpiredLink.id, "expires_at", 25);
    await age("viewer_links", revokedLink.id, "revoked_at", 25);
    await age("viewer_links", usedLink.id, "expires_at", 48);
    const events = await eventCount();

    expect(await deleteEndedViewerSessions(db.pool)).toEqual({ sessions: 2, links: 2 });

    expect(await ids("viewer_sessions")).toEqual([revokedRecently.id, expiredRecently.id, live.id, fromUsedLink.id].sort());
    expect(await ids("viewer_links")).toEqual([liveLink.id, usedLink.id].sort());
    expect(await eventCount()).toBe(events);
    expect(await sessionStatus(live.cookie)).toBe(200);
    expect(await sessionStatus(fromUsedLink.cookie)).toBe(200);
    // A second run finds nothing more.
    expect(await deleteEndedViewerSessions(db.pool)).toEqual({ sessions: 0, links: 0 });

    // Once the link's last session has ended long ago, both go.
    await age("viewer_sessions", fromUsedLink.id, "expires_at", 25);
    expect(await deleteEndedViewerSessions(db.pool)).toEqual({ sessions: 1, links: 1 });
    expect(await ids("viewer_links")).toEqual([liveLink.id]);
  });

  it("is run by the server when it starts", async () => {
    const ended = await keySession();
    const live = await keySession();
    await age("viewer_sessions", ended.id, "expires_at", 30);
    const second = await startTestApi(db);
    try {
      await expect.poll(() => ids("viewer_sessions"), { timeout: 10_000 }).not.toContain(ended.id);
      expect(await ids("viewer_sessions")).toContain(live.id);
    } finally {
      await second.close();
    }
  });
});
