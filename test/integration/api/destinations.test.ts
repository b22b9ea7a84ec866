import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApiServer } from "../../../api-server/src/server.ts";
import { upsertMirror, type MirrorRow } from "../../../core/src/db/config-mirror.ts";
import { call, startTestApi, tenantWithKey } from "../../support/api.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";

let db: TestDatabase;
let api: RunningApiServer;
let acme: string;
let globex: string;

/** A mirror row as the operator writes it (test/integration/operator/config-mirror.test.ts covers the writer). */
const row = (tenant: string, namespace: string, name: string, extra: Partial<MirrorRow> = {}): MirrorRow => ({
  kind: "LogForwardingDestination", namespace, name, uid: `${namespace}-${name}-uid`, tenant, generation: 1, type: "webhook", enabled: true, format: "native",
  endpoint: "https://siem.example.com/audit", details: {}, conditions: [{ type: "Ready", status: "True" }], lastCheck: null, delivery: { delivered: 3 }, lastError: null,
  createdAt: "2026-12-01T00:00:00.000Z", managedBy: null, ...extra,
});

beforeAll(async () => {
  db = await freshDatabase();
  api = await startTestApi(db);
  acme = await tenantWithKey(api.url, "acme", ["config:read"]);
  globex = await tenantWithKey(api.url, "globex", ["config:read"]);
  await upsertMirror(db.pool, row("acme", "acme-prod", "siem"));
  await upsertMirror(db.pool, row("acme", "acme-prod", "archive", { kind: "RecordingStorage", type: "s3", details: { bucket: "recs" } }));
  await upsertMirror(db.pool, row("globex", "globex", "siem"));
});

afterAll(async () => {
  await api?.close();
  await db?.drop();
});

describe("GET /v1/destinations and /v1/recording-storages", () => {
  it("lists each tenant's own resources only, without the tenant field", async () => {
    const a = await call(api.url, "GET", "/v1/destinations", { token: acme });
    expect(a.body.destinations.map((d: { namespace: string; name: string }) => `${d.namespace}/${d.name}`)).toEqual(["acme-prod/siem"]);
    expect(a.body.destinations[0]).not.toHaveProperty("tenant");
    expect(a.body.destinations[0]).toMatchObject({ format: "native", delivery: { delivered: 3 }, createdAt: "2026-12-01T00:00:00.000Z" });
    const g = await call(api.url, "GET", "/v1/destinations", { token: globex });
    expect(g.body.destinations.map((d: { namespace: string }) => d.namespace)).toEqual(["globex"]);
    expect((await call(api.url, "GET", "/v1/recording-storages", { token: acme })).body.recordingStorages).toEqual([expect.objectContaining({ name: "archive", details: { bucket: "recs" } })]);
    expect((await call(api.url, "GET", "/v1/recording-storages", { token: globex })).body).toEqual({ recordingStorages: [] });
  });

  it("answers another tenant's resource, a name that cannot exist and an unknown one alike: 404 problem", async () => {
    for (const path of ["/v1/destinations/globex/siem", "/v1/destinations/acme-prod/Not_A_Name", "/v1/destinations/acme-prod/nope", "/v1/destinations/globex/siem/dead-letters"]) {
      const r = await call(api.url, "GET", path, { token: acme });
      expect(r.status, path).toBe(404);
      expect(r.headers.get("content-type")).toContain("application/problem+json");
      expect(r.body.code).toBe("unknown_destination");
    }
  });

  it("refuses a missing key (401), unknown query parameters and a bad cursor (400)", async () => {
    expect((await call(api.url, "GET", "/v1/destinations")).status).toBe(401);
    const unknown = await call(api.url, "GET", "/v1/destinations?tenant=globex", { token: acme });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors).toEqual([{ path: "tenant", message: "unknown parameter" }]);
    expect((await call(api.url, "GET", "/v1/destinations/acme-prod/siem/dead-letters?limit=501", { token: acme })).status).toBe(400);
    expect((await call(api.url, "GET", "/v1/destinations/acme-prod/siem/dead-letters", { token: acme })).body).toEqual({ deadLetters: [], nextCursor: null });
  });
});

describe("GET /v1/destinations/{namespace}/{name}/delivery-history", () => {
  const history = (token: string, path: string) => call(api.url, "GET", `/v1/destinations/${path}/delivery-history`, { token });

  it("samples the counters each time the mirror changes, at most one sample per 5 s, oldest first", async () => {
    const r = row("acme", "acme-prod", "counted", { uid: "counted-uid", delivery: { delivered: 10, failed: 1, deadLettered: 0, lagEvents: 4 } });
    await upsertMirror(db.pool, r);
    // A second change within 5 s adds no sample; one after the spacing does (moved back in time rather than slept).
    await upsertMirror(db.pool, { ...r, delivery: { delivered: 11 } });
    await db.pool.query("UPDATE delivery_history SET at = at - interval '10 seconds' WHERE uid = 'counted-uid'");
    await upsertMirror(db.pool, { ...r, delivery: { delivered: 25, failed: 2, deadLettered: 1, lagEvents: 0 } });
    const res = await history(acme, "acme-prod/counted");
    expect(res.status).toBe(200);
    expect(res.body.samples).toEqual([
      { at: expect.any(String), delivered: 10, failed: 1, deadLettered: 0, lagEvents: 4 },
      { at: expect.any(String), delivered: 25, failed: 2, deadLettered: 1, lagEvents: 0 },
    ]);
    expect(Date.parse(res.body.samples[0].at)).toBeLessThan(Date.parse(res.body.samples[1].at));
    const recent = await call(api.url, "GET", `/v1/destinations/acme-prod/counted/delivery-history?since=${encodeURIComponent(new Date(Date.now() - 5000).toISOString())}`, { token: acme });
    expect(recent.body.samples.map((s: { delivered: number }) => s.delivered)).toEqual([25]);
  });

  it("drops samples older than the retention and keeps no history for recording storages", async () => {
    const r = row("acme", "acme-prod", "old", { uid: "old-uid" });
    await upsertMirror(db.pool, r);
    await db.pool.query("UPDATE delivery_history SET at = now() - interval '8 days' WHERE uid = 'old-uid'");
    await upsertMirror(db.pool, { ...r, delivery: { delivered: 4 } });
    const all = await db.pool.query("SELECT delivered FROM delivery_history WHERE uid = 'old-uid'");
    expect(all.rows.map((x) => Number(x.delivered))).toEqual([4]);
    expect((await db.pool.query("SELECT 1 FROM delivery_history WHERE uid = 'acme-prod-archive-uid'")).rowCount).toBe(0);
  });

  it("answers another tenant's destination 404 and a bad since 400", async () => {
    expect((await history(acme, "globex/siem")).status).toBe(404);
    expect((await history(globex, "acme-prod/counted")).status).toBe(404);
    const bad = await call(api.url, "GET", "/v1/destinations/acme-prod/siem/delivery-history?since=yesterday", { token: acme });
    expect([bad.status, bad.body.errors?.[0]?.path]).toEqual([400, "since"]);
  });
});
