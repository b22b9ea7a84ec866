import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApiServer } from "../../../api-server/src/server.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { call, startTestApi, tenantWithKey, testAdminToken } from "../../support/api.ts";

const run = promisify(execFile);
const cli = path.resolve(import.meta.dirname, "../../../api-server/src/cli.ts");

let db: TestDatabase;
let api: RunningApiServer;
let reader: string;

beforeAll(async () => {
  db = await freshDatabase();
  api = await startTestApi(db);
  reader = await tenantWithKey(api.url, "acme", ["events:read"]);
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

async function trailkeeper(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], { env: { ...process.env, TRAILKEEPER_URL: api.url, TRAILKEEPER_ADMIN_TOKEN: testAdminToken } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("trailkeeper admin console-link", () => {
  it("prints a one-time link and its expiry, which signs in once with the asked scopes and TTL", async () => {
    const out = await trailkeeper("admin", "console-link", "acme", "--ttl", "10m", "--scopes", "events:read,integrity:read", "--subject", "ops@acme.test");
    expect(out.code, out.stderr).toBe(0);
    const [url, info] = out.stdout.trim().split("\n");
    expect(url).toMatch(new RegExp(`^${api.url}/signin#token=[A-Za-z0-9_-]{43}$`));
    const expires = Date.parse(/expires (\S+);/.exec(info!)![1]!);
    expect(expires - Date.now()).toBeGreaterThan(590_000);
    expect(expires - Date.now()).toBeLessThanOrEqual(600_000);
    const token = new URL(url!).hash.slice("#token=".length);
    const first = await call(api.url, "POST", "/v1/console/sessions/exchange", { body: { token } });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ tenant: "acme", via: "link", scopes: ["events:read", "integrity:read"] });
    expect((await call(api.url, "POST", "/v1/console/sessions/exchange", { body: { token } })).status).toBe(401);
    const minted = await call(api.url, "GET", "/v1/events?action=audit.viewer_session.create", { token: reader });
    expect(minted.body.events[0]).toMatchObject({ actor: { id: "admin" }, details: { subject: "ops@acme.test" } });
  });

  it("defaults to 15 minutes", async () => {
    const out = await trailkeeper("admin", "console-link", "acme", "--url", api.url);
    expect(out.code, out.stderr).toBe(0);
    const expires = Date.parse(/expires (\S+);/.exec(out.stdout)![1]!);
    expect(expires - Date.now()).toBeGreaterThan(890_000);
    expect(expires - Date.now()).toBeLessThanOrEqual(900_000);
  });

  it("fails clearly on a bad TTL, a TTL over 24h and an unknown tenant", async () => {
    const bad = await trailkeeper("admin", "console-link", "acme", "--ttl", "soon");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--ttl soon");
    const long = await trailkeeper("admin", "console-link", "acme", "--ttl", "25h");
    expect(long.code).toBe(1);
    expect(long.stderr).toContain("ttlSeconds");
    const unknown = await trailkeeper("admin", "console-link", "nosuch");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("unknown_tenant");
  });
});
