import { existsSync, mkdtempSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startEmbeddedPostgres } from "../../../core/src/db/embedded.ts";
import { createPool, type Pool } from "../../../core/src/db/pool.ts";
import { tenantWithKey, testAdminToken, testSigningKeyFile } from "../../support/api.ts";
import { ingestLoad, killClusterOf, spawnApiServer, storedExactlyOnce, waitUntil, type ApiProcess } from "../../support/api-process.ts";
import { assertChainValid } from "../../support/chain-check.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";

const clients = 48;
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

/**
 * 48 clients ingest over keep-alive connections; SIGTERM arrives mid-load. Each client keeps sending until the
 * server refuses its connection. Whatever was sent was answered: nothing is cut, nothing acknowledged is lost.
 */
async function sigtermUnderLoad(api: ApiProcess, key: string) {
  const load = ingestLoad(api.base, key, clients, { untilRefused: true });
  expect(await waitUntil(() => load.acked().length >= 300, 60_000)).toBe(true);
  const sentAt = Date.now();
  api.child.kill("SIGTERM");
  const exit = await api.exited;
  const clientsDone = await Promise.race([load.done.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000))]);
  if (!clientsDone) await load.stop();
  return { exit, load, sentAt, clientsDone };
}

async function expectGracefulStop(api: ApiProcess, r: Awaited<ReturnType<typeof sigtermUnderLoad>>, pool: Pool, tenant: string) {
  const { outcomes } = r.load;
  expect(r.exit, api.output().slice(-3000)).toEqual({ code: 0, signal: null });
  expect(api.output()).toContain('"api server stopped"');
  // Answered (201) or refused (connection refused once the listener closed); never reset mid-request.
  expect(outcomes.filter((o) => o.kind === "error")).toEqual([]);
  expect(outcomes.flatMap((o) => (o.kind === "response" && o.status !== 201 ? [o.status] : []))).toEqual([]);
  expect(r.clientsDone).toBe(true);
  expect(outcomes.filter((o) => o.kind === "refused")).toHaveLength(clients);
  // Requests in flight when the signal arrived were finished, not dropped.
  expect(outcomes.filter((o) => o.kind === "response" && o.status === 201 && o.at > r.sentAt).length).toBeGreaterThan(0);
  const acked = r.load.acked();
  expect(await storedExactlyOnce(pool, tenant, acked)).toEqual({ missing: 0, duplicated: 0 });
  expect(await assertChainValid(pool, tenant)).toBeGreaterThanOrEqual(acked.length);
}

describe("graceful shutdown of the API server process", () => {
  it("with DATABASE_URL: SIGTERM under 48-client load drains, exits 0 and loses nothing", async () => {
    const db: TestDatabase = await freshDatabase();
    cleanups.push(() => db.drop());
    const api = await spawnApiServer({ DATABASE_URL: db.url, TRAILKEEPER_ADMIN_TOKEN: testAdminToken, TRAILKEEPER_SIGNING_KEY_FILE: await testSigningKeyFile(db) });
    cleanups.push(async () => void (await api.kill()));
    const key = await tenantWithKey(api.base, "drain", ["events:write"]);
    const r = await sigtermUnderLoad(api, key);
    await expectGracefulStop(api, r, db.pool, "drain");
  }, 120_000);

  it("in embedded mode: the same, and the embedded PostgreSQL stops last and cleanly", async () => {
    // /tmp itself is world-traversable, so the unprivileged postgres user can reach the data dir.
    const dataDir = mkdtempSync(path.join("/tmp", "trailkeeper-shutdown-"));
    cleanups.push(async () => {
      await killClusterOf(path.join(dataDir, "pg"));
      rmSync(dataDir, { recursive: true, force: true });
    });
    const api = await spawnApiServer({ TRAILKEEPER_DATA_DIR: dataDir, TRAILKEEPER_ADMIN_TOKEN: testAdminToken });
    cleanups.push(async () => void (await api.kill()));
    const key = await tenantWithKey(api.base, "drain", ["events:write"]);
    const r = await sigtermUnderLoad(api, key);
    // The cluster was shut down cleanly: its lock file is gone, and it starts again without recovery.
    expect(existsSync(path.join(dataDir, "pg", "postmaster.pid"))).toBe(false);
    const pg = await startEmbeddedPostgres({ dataDir });
    cleanups.push(() => pg.stop());
    const pool = createPool(pg.url, 2);
    cleanups.push(() => pool.end());
    await expectGracefulStop(api, r, pool, "drain");
    expect(api.output()).not.toContain("orphaned");
  }, 180_000);
});
