import { setTimeout as sleep } from "node:timers/promises";
import client from "prom-client";
import { createPool, isDatabaseUnavailable, type Pool } from "@trailkeeper/core/db/pool.ts";
import type { Logger } from "@trailkeeper/core/log.ts";
import type { ApiServerEnv } from "../config.ts";

/** The reads that may be served by the replica (`DATABASE_READ_URL`); everything else stays on the primary. */
export type ReplicaRead = "search" | "export" | "verify";

/** Why a read went to the primary although a replica is configured (or `replica` when the replica served it). */
export type ReadReason = "replica" | "no_replica" | "unreachable" | "lagging" | "not_replayed" | "replica_failed";

/** What the last probe of the replica found. */
export type ReplicaHealth =
  | { status: "unchecked" }
  | { status: "reachable"; lagMs: number }
  | { status: "unreachable"; error: string };

/**
 * Where a read goes, before any per-request wait: the replica while it answers and lags at most `maxLagMs`
 * behind the primary, else the primary. An unchecked replica (the first probe has not answered yet) is tried:
 * a failure falls back anyway.
 */
export function chooseServer(health: ReplicaHealth, maxLagMs: number): { server: "replica" } | { server: "primary"; reason: ReadReason } {
  if (health.status === "unreachable") return { server: "primary", reason: "unreachable" };
  if (health.status === "reachable" && health.lagMs > maxLagMs) return { server: "primary", reason: "lagging" };
  return { server: "replica" };
}

/**
 * How far the replica's applied state trails the primary. While its WAL receiver streams (its `status`, which
 * only roles with pg_read_all_stats may see; for others, that it runs) and it has applied all the
 * WAL it received, it is current (0); otherwise the lag is the age of the last transaction it applied, an upper
 * bound, which also makes a replica cut off from its primary count as lagging however idle the primary is. A
 * server that is not in recovery (the URL names a primary) is current by definition.
 */
const lagQuery = `
  SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN (SELECT COALESCE(status = 'streaming', pid IS NOT NULL) FROM pg_stat_wal_receiver)
      AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
    ELSE COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp()) * 1000, 'Infinity')
  END::float8 AS lag_ms`;

const headQuery = "SELECT seq FROM chain_heads WHERE tenant = $1";

async function headSeq(pool: Pool, tenant: string): Promise<number> {
  return Number((await pool.query<{ seq: number }>(headQuery, [tenant])).rows[0]?.seq ?? 0);
}

/**
 * Failures after which the primary can still answer the same read: the replica is unreachable, or it cancelled
 * the query because replaying the primary's changes conflicted with it (40001, 40P01, 57P04 on a hot standby).
 */
function replicaCanBeBypassed(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return isDatabaseUnavailable(err) || code === "40001" || code === "40P01" || code === "57P04";
}

export interface ReadReplicaOptions {
  primary: Pool;
  /** The replica's pool for reads, and a separate one-connection pool for the probe, so that busy exports never starve it. */
  replica?: { pool: Pool; probePool: Pool };
  /** A replica that lags more than this is bypassed. */
  maxLagMs: number;
  /** How long a read that needs a given seq (an export, `minSeq`, `toSeq`) waits for the replica to apply it. */
  waitMs: number;
  /** How often the replica's lag is measured. */
  probeIntervalMs?: number;
  registry?: client.Registry;
  log: Logger;
}

export interface ReadOptions {
  /** The tenant's seq the read must include: it is served by the replica only once the replica has applied it. */
  needSeq?: number;
  /** Whether a read that failed on the replica may run again on the primary (an export that sent no bytes yet). */
  canRetry?: () => boolean;
}

/**
 * Sends search, export and verification to the read replica when one is configured and current enough, else to
 * the primary, and counts where each read went. Writes, authentication and checkpoints never come here.
 */
export class ReadReplica {
  readonly #o: ReadReplicaOptions;
  readonly #reads: client.Counter<"read" | "served_by" | "reason"> | undefined;
  #health: ReplicaHealth = { status: "unchecked" };
  #timer: NodeJS.Timeout | undefined;
  #probing: Promise<void> | undefined;
  #stopped = false;

  constructor(o: ReadReplicaOptions) {
    this.#o = o;
    if (!o.registry) return;
    this.#reads = new client.Counter({
      name: "trailkeeper_reads_total",
      help: "Searches, exports and verifications by the server that answered (replica, primary) and why (replica, no_replica, unreachable, lagging, not_replayed, replica_failed)",
      labelNames: ["read", "served_by", "reason"], registers: [o.registry],
    });
    if (!o.replica) return;
    const health = () => this.#health;
    new client.Gauge({
      name: "trailkeeper_read_replica_up", help: "1 when the read replica answered its last probe", registers: [o.registry],
      collect() { this.set(health().status === "unreachable" ? 0 : 1); },
    });
    new client.Gauge({
      name: "trailkeeper_read_replica_lag_seconds", help: "How far the read replica's applied state trails the primary, as of its last probe (-1: unreachable)", registers: [o.registry],
      collect() {
        const h = health();
        this.set(h.status === "reachable" && Number.isFinite(h.lagMs) ? h.lagMs / 1000 : -1);
      },
    });
  }

  /** What /readyz reports about the replica; undefined without one. */
  readiness(): { status: "available" | "lagging" | "unreachable" | "unchecked"; lagSeconds?: number } | undefined {
    if (!this.#o.replica) return undefined;
    const h = this.#health;
    if (h.status !== "reachable") return { status: h.status };
    return { status: h.lagMs > this.#o.maxLagMs ? "lagging" : "available", lagSeconds: Number.isFinite(h.lagMs) ? Math.round(h.lagMs) / 1000 : -1 };
  }

  /** Measures the lag now and then every probe interval, until close(). */
  async start(): Promise<void> {
    if (!this.#o.replica) return;
    await this.probe();
    this.#schedule();
  }

  /** Stops the probe and closes the replica's pools. */
  async close(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#probing;
    await this.#o.replica?.pool.end();
    await this.#o.replica?.probePool.end();
  }

  /** One measurement of the replica's lag (also what the timer runs). */
  probe(): Promise<void> {
    const replica = this.#o.replica;
    if (!replica) return Promise.resolve();
    this.#probing ??= replica.probePool.query<{ lag_ms: number }>(lagQuery).then(
      (r) => this.#setHealth({ status: "reachable", lagMs: Number(r.rows[0]!.lag_ms) }),
      (err: unknown) => this.#setHealth({ status: "unreachable", error: (err as Error).message }),
    ).finally(() => (this.#probing = undefined));
    return this.#probing;
  }

  /**
   * Runs `fn` on the server that should answer this read. With `needSeq`, the replica serves it only once it has
   * applied that seq of the tenant's chain (or the primary's head, if lower), waiting at most `waitMs`. A read
   * that fails on the replica because of the replica runs again on the primary, when `canRetry` allows it.
   */
  async read<T>(read: ReplicaRead, tenant: string, fn: (pool: Pool) => Promise<T>, opts: ReadOptions = {}): Promise<T> {
    const replica = this.#o.replica?.pool;
    const reason = replica ? await this.#reasonToBypass(tenant, opts.needSeq) : "no_replica";
    if (!replica || reason) return this.#onPrimary(read, reason ?? "no_replica", fn);
    this.#reads?.inc({ read, served_by: "replica", reason: "replica" });
    try {
      return await fn(replica);
    } catch (err) {
      if (!replicaCanBeBypassed(err) || !(opts.canRetry?.() ?? true)) throw err;
      this.#o.log.warn("read replica failed a read; the primary answers it", { read, err: (err as Error).message });
      if (isDatabaseUnavailable(err)) this.#setHealth({ status: "unreachable", error: (err as Error).message });
      return this.#onPrimary(read, "replica_failed", fn);
    }
  }

  #onPrimary<T>(read: ReplicaRead, reason: ReadReason, fn: (pool: Pool) => Promise<T>): Promise<T> {
    this.#reads?.inc({ read, served_by: "primary", reason });
    return fn(this.#o.primary);
  }

  /** undefined when the replica may serve the read; else why not. */
  async #reasonToBypass(tenant: string, needSeq: number | undefined): Promise<ReadReason | undefined> {
    const choice = chooseServer(this.#health, this.#o.maxLagMs);
    if (choice.server === "primary") return choice.reason;
    if (needSeq === undefined) return undefined;
    // A seq beyond the primary's head (a client's mistake) would only make the read wait for nothing.
    const need = Math.min(needSeq, await headSeq(this.#o.primary, tenant));
    try {
      return (await this.#replayed(tenant, need)) ? undefined : "not_replayed";
    } catch (err) {
      if (!replicaCanBeBypassed(err)) throw err;
      return "unreachable";
    }
  }

  /** Polls the replica's copy of the tenant's head until it reaches `seq`, for at most `waitMs`. */
  async #replayed(tenant: string, seq: number): Promise<boolean> {
    const pool = this.#o.replica!.pool;
    const deadline = Date.now() + this.#o.waitMs;
    for (let pause = 10; ; pause = Math.min(100, pause * 2)) {
      let head: number;
      try {
        head = await headSeq(pool, tenant);
      } catch (err) {
        if (isDatabaseUnavailable(err)) this.#setHealth({ status: "unreachable", error: (err as Error).message });
        throw err;
      }
      if (head >= seq) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await sleep(Math.min(pause, left));
    }
  }

  #setHealth(h: ReplicaHealth): void {
    const before = this.#health.status;
    this.#health = h;
    if (before === h.status) return;
    if (h.status === "unreachable") this.#o.log.warn("read replica unreachable; the primary serves its reads", { error: h.error });
    else if (before === "unreachable") this.#o.log.info("read replica reachable again");
  }

  #schedule(): void {
    if (this.#stopped) return;
    const every = this.#o.probeIntervalMs ?? Math.max(50, Math.min(1000, Math.floor(this.#o.maxLagMs / 4)));
    this.#timer = setTimeout(() => void this.probe().then(() => this.#schedule()), every);
    this.#timer.unref();
  }
}

/** How long one probe of the replica may take before the replica counts as unreachable. */
const probeTimeoutMs = 2000;

/**
 * The server's read routing: with `DATABASE_READ_URL`, a pool on the replica sized like the primary's (with the same
 * timeouts) and a one-connection probe pool; the first probe has answered (or failed) when this resolves, so
 * an unreachable replica does not stop the server from starting.
 */
export async function startReadReplica(config: ApiServerEnv, primary: Pool, registry: client.Registry, log: Logger): Promise<ReadReplica> {
  const url = config.DATABASE_READ_URL;
  const replica = url
    ? {
      pool: createPool(url, {
        max: config.TRAILKEEPER_DB_POOL_SIZE,
        acquireTimeoutMs: config.TRAILKEEPER_DB_ACQUIRE_TIMEOUT_MS,
        statementTimeoutMs: config.TRAILKEEPER_DB_STATEMENT_TIMEOUT_MS,
        idleInTransactionTimeoutMs: config.TRAILKEEPER_DB_IDLE_IN_TX_TIMEOUT_MS,
        applicationName: "trailkeeper-read",
      }),
      probePool: createPool(url, { max: 1, acquireTimeoutMs: probeTimeoutMs, statementTimeoutMs: probeTimeoutMs, applicationName: "trailkeeper-read-probe" }),
    }
    : undefined;
  const reads = new ReadReplica({ primary, replica, maxLagMs: config.TRAILKEEPER_READ_MAX_LAG_MS, waitMs: config.TRAILKEEPER_READ_WAIT_MS, registry, log });
  await reads.start();
  if (replica) log.info("read replica configured", { health: reads.readiness() });
  return reads;
}
