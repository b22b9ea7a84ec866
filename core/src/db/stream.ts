import type { Readable } from "node:stream";
import { to as copyTo } from "pg-copy-streams";
import Cursor from "pg-cursor";
import QueryStream from "pg-query-stream";
import type { Pool } from "./pool.ts";

/**
 * Runs a query through a server-side cursor on its own connection; rows arrive `batchSize` at a time with
 * backpressure. If `fn` fails or the stream is destroyed early (e.g. the HTTP client went away), the
 * connection is discarded rather than returned, which ends the query on the server.
 */
export async function withRowStream<T>(pool: Pool, text: string, values: unknown[], fn: (rows: QueryStream) => Promise<T>, batchSize = 1000): Promise<T> {
  const client = await pool.connect();
  const stream = client.query(new QueryStream(text, values, { batchSize, highWaterMark: batchSize }));
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
 * Runs `COPY … TO STDOUT` on its own connection and hands `fn` the raw output; the copy stream stops reading the
 * socket while its consumer is full, so PostgreSQL waits rather than the process buffering. As above, an early
 * end discards the connection, which ends the COPY on the server.
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
 * taking turns (measured: the verifier's main thread waited 28 % of the time). Memory holds two batches.
 */
export async function forEachRow<R extends object>(pool: Pool, text: string, values: unknown[], onRow: (row: R) => void, batchSize = 1000): Promise<void> {
  const client = await pool.connect();
  const cursor = client.query(new Cursor<R>(text, values));
  let next = cursor.read(batchSize);
  try {
    for (;;) {
      const rows = await next;
      if (rows.length === 0) break;
      next = cursor.read(batchSize);
      for (const row of rows) onRow(row);
    }
    await cursor.close();
    client.release();
  } catch (err) {
    next.catch(() => {}); // settled or not, it is abandoned with the connection
    client.release(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
}
