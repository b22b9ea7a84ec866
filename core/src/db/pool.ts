import pg from "pg";

/** int8 as a JS number: seq and counts stay far below 2^53. */
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === 20) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  },
};

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
/** Either: for reads that may run on the pool or inside a caller's transaction or snapshot. */
export type Queryable = pg.Pool | pg.PoolClient;

export interface PoolOptions {
  max?: number;
  /** How long a caller waits for a connection (a free one, or a new one to be established); 0 waits forever. */
  acquireTimeoutMs?: number;
  /** Session default for `statement_timeout`; a session may `SET` its own (long exports do). 0: none. */
  statementTimeoutMs?: number;
  /** Session default for `idle_in_transaction_session_timeout`. 0: none. */
  idleInTransactionTimeoutMs?: number;
  /** `application_name`, so that `pg_stat_activity` tells the pools apart (e.g. the read replica's). */
  applicationName?: string;
}

export function createPool(connectionString: string, opts: number | PoolOptions = {}): pg.Pool {
  const o = typeof opts === "number" ? { max: opts } : opts;
  const pool = new pg.Pool({
    connectionString,
    max: o.max ?? 10,
    types: types as pg.CustomTypesConfig,
    application_name: o.applicationName ?? "trailkeeper",
    ...(o.acquireTimeoutMs ? { connectionTimeoutMillis: o.acquireTimeoutMs } : {}),
    ...(o.statementTimeoutMs ? { statement_timeout: o.statementTimeoutMs } : {}),
    ...(o.idleInTransactionTimeoutMs ? { idle_in_transaction_session_timeout: o.idleInTransactionTimeoutMs } : {}),
  });
  // An idle client that loses its connection must not crash the process; the pool replaces it.
  pool.on("error", () => {});
  // A checked-out client (a transaction, an export cursor, a LISTEN) that loses its connection emits `error`
  // too; without a listener that is an uncaught exception. The query in progress rejects with the same error,
  // and the pool discards the broken client on release.
  pool.on("connect", (client) => client.on("error", () => {}));
  return pool;
}

/** Runs `fn` in one transaction on one checked-out client, released in `finally`. */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    // A connection that cannot even roll back is not returned to the pool.
    await client.query("ROLLBACK").catch((e: unknown) => (broken = e instanceof Error ? e : new Error(String(e))));
    throw err;
  } finally {
    client.release(broken);
  }
}

const connectionErrorCodes = new Set([
  "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN",
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
  "53300", // too_many_connections
]);

const connectionErrorMessages = [
  "Connection terminated",
  "timeout exceeded when trying to connect",
  "Client has encountered a connection error",
  "Client was closed and is not queryable",
  "the database system is",
];

/**
 * True when `err` means the database cannot be reached right now (refused, lost, shutting down, starting,
 * acquire timeout), as opposed to a failed statement: callers answer "try again later", not "internal error".
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === "object" && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && (connectionErrorCodes.has(code) || code.startsWith("08"))) return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === "string" && connectionErrorMessages.some((m) => message.includes(m))) return true;
    if (e instanceof AggregateError && e.errors.some((inner) => isDatabaseUnavailable(inner))) return true;
  }
  return false;
}
