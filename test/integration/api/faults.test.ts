import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, startEmbeddedPostgres, type EmbeddedPostgresHandle } from "../../../core/src/db/embedded.ts";
import { createPool } from "../../../core/src/db/pool.ts";
import { loadSigningKey } from "../../../core/src/integrity/signing-key.ts";
import { call, tenantWithKey, testAdminToken } from "../../support/api.ts";
import { ingestLoad, killClusterOf, postmasterPid, spawnApiServer, storedExactlyOnce, waitUntil, type ApiProcess, type Outcome } from "../../support/api-process.ts";
import { assertChainValid } from "../../support/chain-check.ts";

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

/** /tmp itself is world-traversable, so the unprivileged postgres user can reach the data dir. */
function tempDataDir(): string {
  const dir = mkdtempSync(path.join("/tmp", "trailkeeper-faults-"));
  cleanups.push(async () => {
    await killClusterOf(path.join(dir, "pg"));
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Running, not a zombie: an orphan's parent is gone, and PID 1 may not reap it. */
function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

const responses = (outcomes: Outcome[], after = 0) =>
  outcomes.filter((o): o is Extract<Outcome, { kind: "response" }> => o.kind === "response" && o.at > after);

/** Polls /readyz until it answers 200 again, collecting what it said on the way. */
async function readinessUntilReady(base: string, timeoutMs: number): Promise<string[]> {
  const seen: string[] = [];
  await waitUntil(async () => {
    const r = await call(base, "GET", "/readyz");
    seen.push(r.body?.status);
    return r.status === 200;
  }, timeoutMs, 50);
  return seen;
}

/** While the database is away: the process lives, ingest answers 503 + Retry-After, liveness stays 200. */
function expectOutageAnswers(api: ApiProcess, outcomes: Outcome[], killedAt: number) {
  expect(api.child.exitCode, api.output().slice(-3000)).toBeNull();
  expect(outcomes.filter((o) => o.kind !== "response")).toEqual([]);
  const all = responses(outcomes);
  expect(all.filter((o) => ![200, 201, 503].includes(o.status)).map((o) => o.status)).toEqual([]);
  const unavailable = responses(outcomes, killedAt).filter((o) => o.status === 503);
  expect(unavailable.length).toBeGreaterThan(0);
  for (const o of unavailable) expect([o.code, o.retryAfter]).toEqual(["database_unavailable", "5"]);
}

describe("database faults: kill -9 of PostgreSQL during load", () => {
  it("with DATABASE_URL: 503 + Retry-After during the outage, recovery without a restart, nothing lost", async () => {
    const dataDir = tempDataDir();
    const port = await freePort();
    let pg: EmbeddedPostgresHandle = await startEmbeddedPostgres({ dataDir, port });
    cleanups.push(() => pg.stop());
    const keyFile = path.join(dataDir, "signing-key.pem");
    await loadSigningKey(keyFile, "trailkeeper.dev/audit", true);
    const api = await spawnApiServer({ DATABASE_URL: pg.url, TRAILKEEPER_ADMIN_TOKEN: testAdminToken, TRAILKEEPER_SIGNING_KEY_FILE: keyFile, TRAILKEEPER_DB_ACQUIRE_TIMEOUT_MS: "2000" });
    cleanups.push(() => api.kill());
    const key = await tenantWithKey(api.base, "faults", ["events:write"]);
    const load = ingestLoad(api.base, key, 16);
    expect(await waitUntil(() => load.acked().length >= 100, 60_000)).toBe(true);

    process.kill(await postmasterPid(path.join(dataDir, "pg")), "SIGKILL");
    const killedAt = Date.now();
    const answered503 = await waitUntil(() => responses(load.outcomes, killedAt).filter((o) => o.status === 503).length >= 20 || api.child.exitCode !== null, 30_000);
    expect(api.child.exitCode, `the API server died:\n${api.output().slice(-2000)}`).toBeNull();
    expect(answered503).toBe(true);
    expect((await call(api.base, "GET", "/readyz")).body).toEqual({ status: "database unreachable" });
    expect((await call(api.base, "GET", "/healthz")).status).toBe(200);

    pg = await startEmbeddedPostgres({ dataDir, port });
    await readinessUntilReady(api.base, 60_000);
    const restartedAt = Date.now();
    expect(await waitUntil(() => responses(load.outcomes, restartedAt).filter((o) => o.status === 201).length >= 100, 60_000)).toBe(true);
    await load.stop();

    expectOutageAnswers(api, load.outcomes, killedAt);
    const pool = createPool(pg.url, 2);
    cleanups.push(() => pool.end());
    expect(await storedExactlyOnce(pool, "faults", load.acked())).toEqual({ missing: 0, duplicated: 0 });
    await assertChainValid(pool, "faults");
    expect(await api.kill("SIGTERM")).toEqual({ code: 0, signal: null });
  }, 180_000);

  it("in embedded mode: the server restarts its PostgreSQL; after a kill -9 of the server, the next start stops the orphan", async () => {
    const dataDir = tempDataDir();
    const api = await spawnApiServer({ TRAILKEEPER_DATA_DIR: dataDir, TRAILKEEPER_ADMIN_TOKEN: testAdminToken });
    cleanups.push(() => api.kill());
    const key = await tenantWithKey(api.base, "faults", ["events:write"]);
    const load = ingestLoad(api.base, key, 16);
    expect(await waitUntil(() => load.acked().length >= 100, 60_000)).toBe(true);

    process.kill(await postmasterPid(path.join(dataDir, "pg")), "SIGKILL");
    const killedAt = Date.now();
    const readiness = await readinessUntilReady(api.base, 60_000);
    expect(readiness).toContain("database unreachable");
    const restartedAt = Date.now();
    expect(await waitUntil(() => responses(load.outcomes, restartedAt).filter((o) => o.status === 201).length >= 100, 60_000)).toBe(true);
    await load.stop();
    expectOutageAnswers(api, load.outcomes, killedAt);
    expect(api.output()).toContain("embedded PostgreSQL exited unexpectedly; restarting it");
    expect(api.output()).toContain('"embedded PostgreSQL restarted"');

    // kill -9 of the server itself leaves its PostgreSQL running, holding the data directory.
    const orphan = await postmasterPid(path.join(dataDir, "pg"));
    await api.kill("SIGKILL");
    expect(isRunning(orphan)).toBe(true);
    const next = await spawnApiServer({ TRAILKEEPER_DATA_DIR: dataDir, TRAILKEEPER_ADMIN_TOKEN: testAdminToken });
    cleanups.push(() => next.kill());
    expect(next.output()).toContain("stopping an orphaned embedded PostgreSQL of this data directory");
    expect(isRunning(orphan)).toBe(false);
    expect((await call(next.base, "POST", "/v1/events", { token: key, body: { actor: { id: "a", type: "user" }, action: "resource.update", resource: { type: "x", id: "after-restart" }, outcome: "success" } })).status).toBe(201);
    expect(await next.kill("SIGTERM")).toEqual({ code: 0, signal: null });

    const pg = await startEmbeddedPostgres({ dataDir });
    cleanups.push(() => pg.stop());
    const pool = createPool(pg.url, 2);
    cleanups.push(() => pool.end());
    expect(await storedExactlyOnce(pool, "faults", load.acked())).toEqual({ missing: 0, duplicated: 0 });
    await assertChainValid(pool, "faults");
  }, 240_000);
});
