import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { startEmbeddedPostgres } from "../../core/src/db/embedded.ts";
import { eventSelectList, rowToEvent, type EventRow } from "../../core/src/db/event-rows.ts";
import { migrate } from "../../core/src/db/migrate.ts";
import { createPool, type Pool } from "../../core/src/db/pool.ts";
import { checkLink, genesisHash } from "../../core/src/events/chain.ts";

export interface BenchDatabase {
  url: string;
  pool: Pool;
  /** `embedded` (a fresh cluster in a temp dir) or `DATABASE_URL` (a fresh database on that server). */
  mode: "embedded" | "DATABASE_URL";
  /** The postmaster's pid when the cluster runs on this machine (embedded mode), for CPU accounting. */
  postmasterPid?: number;
  /** A directory for the benchmark's own files (server log, signing key, CPU profiles). */
  workDir: string;
  serverVersion: string;
  settings: Record<string, string>;
  close(): Promise<void>;
}

/**
 * A fresh, migrated database with production durability (fsync, synchronous_commit and full_page_writes on):
 * an embedded PostgreSQL in a new temp dir under /tmp, or, when DATABASE_URL is set, a new database on that
 * server (dropped afterwards). BENCH_KEEP_DATA=1 keeps both.
 */
export async function freshBenchDatabase(): Promise<BenchDatabase> {
  const workDir = mkdtempSync(path.join("/tmp", "trailkeeper-bench-"));
  // mkdtemp makes it 0700; the cluster below runs as the unprivileged postgres user when we are root.
  chmodSync(workDir, 0o755);
  const keep = process.env.BENCH_KEEP_DATA === "1";
  let url: string;
  let postmasterPid: number | undefined;
  let stopServer = async () => {};
  let mode: BenchDatabase["mode"];
  if (process.env.DATABASE_URL) {
    mode = "DATABASE_URL";
    const name = `tk_bench_${randomBytes(5).toString("hex")}`;
    await withClient(process.env.DATABASE_URL, (c) => c.query(`CREATE DATABASE ${name}`));
    const u = new URL(process.env.DATABASE_URL);
    u.pathname = `/${name}`;
    url = u.toString();
    stopServer = async () => {
      if (!keep) await withClient(process.env.DATABASE_URL!, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    };
  } else {
    mode = "embedded";
    // Only max_connections differs from a stock cluster: the INSERT limit opens 64 connections beside the server's pool.
    // BENCH_PG_SETTINGS (name=value,…) adds settings for what-if runs, e.g. wal_compression=lz4; printed with the results.
    const extra = Object.fromEntries((process.env.BENCH_PG_SETTINGS ?? "").split(",").filter(Boolean).map((kv) => {
      const m = /^([a-z_]+)=([\w.-]+)$/.exec(kv.trim());
      if (!m) throw new Error(`BENCH_PG_SETTINGS: ${kv} is not name=value`);
      return [m[1]!, m[2]!];
    }));
    const handle = await startEmbeddedPostgres({ dataDir: path.join(workDir, "postgres"), settings: { max_connections: "200", ...extra } });
    url = handle.url;
    postmasterPid = Number(readFileSync(path.join(workDir, "postgres", "pg", "postmaster.pid"), "utf8").split("\n")[0]);
    stopServer = () => handle.stop();
  }
  const pool = createPool(url, 4);
  await migrate(pool);
  const version = (await pool.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
  const settings = Object.fromEntries(
    (await pool.query<{ name: string; setting: string; unit: string | null }>(
      "SELECT name, setting, unit FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method', 'wal_compression', 'shared_buffers', 'max_wal_size', 'max_connections')",
    )).rows.map((r) => [r.name, r.unit ? `${r.setting} (${r.unit})` : r.setting]),
  );
  return {
    url, pool, mode, workDir, serverVersion: version, settings,
    ...(postmasterPid ? { postmasterPid } : {}),
    async close() {
      await pool.end();
      await stopServer();
      if (!keep) rmSync(workDir, { recursive: true, force: true });
      else process.stderr.write(`kept benchmark data in ${workDir}\n`);
    },
  };
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Flushes dirty pages so that every measured phase starts from the same state; ignored without the privilege. */
export async function checkpoint(pool: Pool): Promise<void> {
  await pool.query("CHECKPOINT").catch(() => {});
}

/**
 * Proves a tenant's chain is what the benchmark claims to have written: exactly `expected` events, seq
 * gapless from 1, and the chain head on the last event; with `links`, also every hash recomputed and linked.
 */
export async function verifyChain(pool: Pool, tenant: string, expected: number, links: boolean): Promise<void> {
  const stats = (await pool.query<{ n: number; lo: number | null; hi: number | null }>(
    "SELECT count(*)::int AS n, min(seq) AS lo, max(seq) AS hi FROM events WHERE tenant = $1",
    [tenant],
  )).rows[0]!;
  if (stats.n !== expected || (expected > 0 && (stats.lo !== 1 || stats.hi !== expected))) {
    throw new Error(`tenant ${tenant}: expected ${expected} events with seq 1..${expected}, found ${stats.n} (seq ${stats.lo}..${stats.hi})`);
  }
  let head = { seq: 0, hash: genesisHash };
  if (!links) {
    const last = (await pool.query<{ hash: string }>("SELECT hash FROM events WHERE tenant = $1 AND seq = $2", [tenant, expected])).rows[0];
    head = last ? { seq: expected, hash: last.hash } : head;
  }
  const page = 10_000;
  for (let from = 1; links && from <= expected; from += page) {
    const rows = (await pool.query<EventRow>(
      `SELECT ${eventSelectList} FROM events WHERE tenant = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq`,
      [tenant, from, from + page - 1],
    )).rows;
    for (const row of rows) {
      const e = rowToEvent(row);
      const fault = checkLink(head, e);
      if (fault) throw new Error(`tenant ${tenant}: chain broken at seq ${fault.seq}: ${fault.kind}: ${fault.message}`);
      head = { seq: e.seq, hash: e.hash };
    }
  }
  const stored = (await pool.query<{ seq: number; hash: string }>("SELECT seq, hash FROM chain_heads WHERE tenant = $1", [tenant])).rows[0];
  if (stored?.seq !== head.seq || stored.hash !== head.hash) throw new Error(`tenant ${tenant}: chain head ${stored?.seq} disagrees with the last event ${head.seq}`);
}
