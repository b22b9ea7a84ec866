import { execFile } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "../../../core/src/db/migrate.ts";
import { createPool } from "../../../core/src/db/pool.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { call, sampleEvent, startTestApi, tenantWithKey, testAdminToken } from "../../support/api.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const cli = path.resolve(import.meta.dirname, "../../../api-server/src/cli.ts");

describe("migrations", () => {
  it("are safe when several replicas start at once", async () => {
    const other = await freshDatabase();
    // freshDatabase migrated already; start from an empty schema to race the real thing.
    const su = await other.superuser();
    await su.query("DROP SCHEMA public CASCADE; CREATE SCHEMA public");
    await su.end();
    const pools = Array.from({ length: 4 }, () => createPool(other.url, 2));
    const applied = await Promise.all(pools.map((p) => migrate(p)));
    expect(applied.flat().sort()).toEqual(applied.find((a) => a.length > 0)!.sort());
    expect(applied.filter((a) => a.length > 0)).toHaveLength(1);
    await Promise.all(pools.map((p) => p.end()));
    await other.drop();
  });
});

describe("group commit and graceful shutdown", () => {
  it("appends concurrent requests for one tenant in fewer transactions, and finishes accepted requests on shutdown", async () => {
    const api = await startTestApi(db);
    const key = await tenantWithKey(api.url, "grouped", ["events:write"]);
    const metricsBefore = await call(api.url, "GET", "/metrics");
    const txBefore = Number(/trailkeeper_append_transaction_events_count (\d+)/.exec(metricsBefore.body)![1]);
    const requests = Array.from({ length: 200 }, () => call(api.url, "POST", "/v1/events", { token: key, body: sampleEvent() }));
    const results = await Promise.all(requests);
    expect(results.every((r) => r.status === 201)).toBe(true);
    const txAfter = Number(/trailkeeper_append_transaction_events_count (\d+)/.exec((await call(api.url, "GET", "/metrics")).body)![1]);
    expect(txAfter - txBefore).toBeLessThan(200);

    // Requests in flight when shutdown begins still get their commit; nothing accepted is lost. The tenant's head
    // is held locked from another connection, so the appends are provably still waiting when close() starts.
    const locker = await db.pool.connect();
    await locker.query("BEGIN");
    await locker.query("SELECT 1 FROM chain_heads WHERE tenant = 'grouped' FOR UPDATE");
    const inflight = Array.from({ length: 50 }, () => call(api.url, "POST", "/v1/events", { token: key, body: sampleEvent() }).catch(() => ({ status: 0, body: undefined })));
    let waiting = 0;
    for (let i = 0; i < 100 && waiting === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      waiting = Number((await db.pool.query("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")).rows[0].n);
    }
    expect(waiting).toBe(1);
    await new Promise((r) => setTimeout(r, 500)); // the other requests reach the batcher and queue behind it
    const closing = api.close();
    await new Promise((r) => setTimeout(r, 100));
    await locker.query("COMMIT");
    locker.release();
    const outcomes = await Promise.all(inflight);
    await closing;
    expect(outcomes.map((r) => r.status)).toEqual(outcomes.map(() => 201));
    const ok = outcomes.flatMap((r) => (r.body as { events: { id: string }[] }).events.map((e) => e.id));
    const stored = (await db.pool.query("SELECT id FROM events WHERE id = ANY($1::uuid[])", [ok])).rows.length;
    expect(stored).toBe(50);
  });
});

describe("admin CLI", () => {
  it("creates a tenant and a key, lists and revokes it", async () => {
    const api = await startTestApi(db);
    // Asynchronously: the API server runs in this process and must keep answering while the CLI waits.
    const run = (...args: string[]) =>
      new Promise<{ status: number; stdout: string }>((resolve) => {
        execFile(process.execPath, [cli, "admin", ...args, "--url", api.url, "--token", testAdminToken], { encoding: "utf8" }, (err, stdout) =>
          resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout }));
      });
    expect((await run("tenant", "create", "cli-made")).status).toBe(0);
    const created = await run("key", "create", "cli-made", "--scopes", "events:write,events:read", "--name", "from-cli");
    expect(created.status).toBe(0);
    const key = JSON.parse(created.stdout) as { id: string; key: string; scopes: string[] };
    expect(key.scopes).toEqual(["events:write", "events:read"]);
    expect((await call(api.url, "POST", "/v1/events", { token: key.key, body: sampleEvent() })).status).toBe(201);
    const listed = await run("key", "list", "cli-made");
    expect(listed.stdout).toContain("from-cli");
    expect(listed.stdout).not.toContain(key.key);
    expect((await run("key", "revoke", "cli-made", key.id)).status).toBe(0);
    expect((await call(api.url, "POST", "/v1/events", { token: key.key, body: sampleEvent() })).status).toBe(401);
    const bad = await run("key", "revoke", "cli-made", key.id);
    expect(bad.status).toBe(1);
    await api.close();
  });
});
