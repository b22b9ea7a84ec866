import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { eventColumns } from "../../core/src/db/event-rows.ts";

/**
 * COPY FROM STDIN of a pre-built payload (columns as `eventColumns`, then `extraColumns`) into `table`, in 1 MiB
 * pieces; returns seconds.
 */
export async function copyInto(client: pg.Client, table: string, payload: Buffer, rows: number, extraColumns: readonly string[] = []): Promise<number> {
  const start = performance.now();
  const stream = client.query(copyFrom(`COPY ${table} (${[...eventColumns, ...extraColumns].join(", ")}) FROM STDIN`));
  const chunk = 1 << 20;
  await pipeline(Readable.from((function* () {
    for (let o = 0; o < payload.length; o += chunk) yield payload.subarray(o, o + chunk);
  })()), stream);
  const seconds = (performance.now() - start) / 1000;
  if (stream.rowCount !== rows) throw new Error(`COPY into ${table} stored ${stream.rowCount} rows, expected ${rows}`);
  return seconds;
}
