/** GET /v1/events/{id}: one stored event, as search shows it, for the console's expanded row. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApiServer } from "../../../api-server/src/server.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { call, startTestApi, tenantWithKey } from "../../support/api.ts";

let db: TestDatabase;
let api: RunningApiServer;
let writer: string;
let reader: string;
let otherId: string;

interface Stored { id: string; seq: number; tenant: string; details?: unknown }

beforeAll(async () => {
  db = await freshDatabase();
  api = await startTestApi(db);
  writer = await tenantWithKey(api.url, "byid", ["events:write"]);
  reader = await tenantWithKey(api.url, "byid", ["events:read"]);
  const other = await tenantWithKey(api.url, "byid-other", ["events:write"]);
  const event = { actor: { id: "u-1", name: "Ada", type: "user" }, action: "secret.reveal", resource: { type: "secret", id: "s-1" }, outcome: "success", details: { vault: { path: "kv/prod", ticket: 4711 }, note: "‮rtl" } };
  expect((await call(api.url, "POST", "/v1/events", { token: writer, body: { events: [event, { ...event, action: "auth.login" }] } })).status).toBe(201);
  otherId = (await call(api.url, "POST", "/v1/events", { token: other, body: event })).body.events[0].id;
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

const get = (path: string, token = reader) => call(api.url, "GET", path, { token });

describe("GET /v1/events/{id}", () => {
  it("answers each event exactly as a search page holds it", async () => {
    const page = (await get("/v1/events")).body.events as Stored[];
    expect(page.length).toBeGreaterThanOrEqual(2);
    for (const stored of page) {
      const res = await get(`/v1/events/${stored.id}?minSeq=${stored.seq}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(stored);
    }
    // Ids are uuids: the upper-case spelling names the same event.
    expect((await get(`/v1/events/${page[0]!.id.toUpperCase()}`)).body).toEqual(page[0]);
  });

  it("is 404 for another tenant's event, an unknown id and a malformed one", async () => {
    for (const id of [otherId, "01900000-0000-7000-8000-000000000000", "not-an-id", "%E2%80%AE"]) {
      const res = await get(`/v1/events/${id}`);
      expect(res.status, id).toBe(404);
      expect(res.body.code).toBe("unknown_event");
    }
  });

  it("rejects a bad minSeq or an unknown parameter, and needs events:read", async () => {
    const id = ((await get("/v1/events?limit=1")).body.events as Stored[])[0]!.id;
    expect((await get(`/v1/events/${id}?minSeq=0`)).status).toBe(400);
    expect((await get(`/v1/events/${id}?limit=5`)).status).toBe(400);
    expect((await get(`/v1/events/${id}`, writer)).status).toBe(403);
  });

  it("leaves /v1/events/export to the export (a reader without events:export is refused, not told 404)", async () => {
    expect((await get("/v1/events/export?format=jsonl")).status).toBe(403);
  });
});
