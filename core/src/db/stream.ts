import type { Readable } from "node:stream";
import { to as copyTo } from "pg-copy-streams";
import Cursor from "pg-cursor";
import type { Pool } from "./pool.ts";

/**
 * Runs `COPY … TO STDOUT` on its own connection and hands `fn` the raw output; the copy stream stops reading the
 * socket while its consumer is full, so PostgreSQL waits rather than the process buffering. If `fn` fails (e.g.
 * the HTTP client went away), the connection is discarded rather than returned, which ends the COPY on the server.
 */
export async function withCopyOut<T>(pool: Pool, statement: string, fn: (data: Readable) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const stream = client.query(copyTo(statement));
  try {
    const result = await fn(stream);
    client.release();
    return result;
  } catch (err) {
    stream.destroy();
    client.release(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
}

/**
 * Calls `onRow` for every row of a query, read through a cursor `batchSize` rows at a time on its own
 * connection. The next batch is requested before the current one is handed over, so PostgreSQL produces it
 * while this process works: a plain cursor stream asks only after the consumer finished, leaving the two
 * taking turns (measured: the verifier's main thread waited 28 % of the time). Memory holds two batches. If
 * `onRow` fails, the connection is discarded, which ends the query on the server.
 * `onRow` may return a promise (e.g. to wait for a slow HTTP client); the rows wait for it.
 */
export async function forEachRow<R extends object>(pool: Pool, text: string, values: unknown[], onRow: (row: R) => void | Promise<void>, batchSize = 1000): Promise<void> {
  const client = await pool.connect();
  const cursor = client.query(new Cursor<R>(text, values));
  let next = cursor.read(batchSize);
  try {
    for (;;) {
      const rows = await next;
      if (rows.length === 0) break;
      next = cursor.read(batchSize);
      for (const row of rows) {
        const wait = onRow(row);
        if (wait) await wait;
      }
    }
    await cursor.close();
    client.release();
  } catch (err) {
    next.catch(() => {}); // settled or not, it is abandoned with the connection
    client.release(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
}
