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
  createdAt: "2026-12-01T00:00:00.000Z", ...extra,
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
