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
