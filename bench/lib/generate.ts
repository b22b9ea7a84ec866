import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { eventColumns } from "../../core/src/db/event-rows.ts";
import { createTenant as createTenantRow } from "../../core/src/db/event-store.ts";
import { backfillTreeStep } from "../../core/src/db/merkle-tree.ts";
import { timeBucketsUpsert } from "../../core/src/db/search-index.ts";
import { inTransaction, type Pool } from "../../core/src/db/pool.ts";
import { extendChain, type ChainHead } from "../../core/src/events/chain.ts";
import { eventInputSchema, toPendingEvent } from "../../core/src/events/model.ts";
import { uuidv7 } from "../../core/src/ids.ts";
import { searchTextSql } from "../../core/src/search/filters.ts";
import { copyPayload, makeEventInputs } from "./events.ts";

/**
 * Generates `count` realistic events for one tenant, spread evenly over `spanDays` of occurredAt, with their
 * real chain (ids, seq, prevHash, hash), loaded with COPY in chunks, then moves the tenant's chain head. The
 * chain is valid: the API's verify endpoint accepts it. The search documents are written too (unless
 * `searchDocuments: false`), so that free text is served as after the search indexer caught up.
 */
export async function generateTenantEvents(pool: Pool, url: string, tenant: string, count: number, opts: { spanDays?: number; chunk?: number; log?: (m: string) => void; searchDocuments?: boolean } = {}): Promise<ChainHead> {
  const chunk = opts.chunk ?? 50_000;
  const spanMs = (opts.spanDays ?? 30) * 86_400_000;
  const end = Date.now();
  await inTransaction(pool, (c) => createTenantRow(c, tenant));
  // The monthly partitions of the whole span, as the retention job would have created them at the time.
  await pool.query("SELECT trailkeeper_ensure_event_partitions($1, $2)", [new Date(end - spanMs), new Date(end)]);
  let head = (await pool.query<{ seq: number; hash: string }>("SELECT seq, hash FROM chain_heads WHERE tenant = $1", [tenant])).rows[0]!;
  head = { seq: Number(head.seq), hash: head.hash };
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (let done = 0; done < count; done += chunk) {
      const n = Math.min(chunk, count - done);
      const inputs = makeEventInputs(n, 1000 + done);
      const pending = inputs.map((input, i) => {
        const k = done + i;
        const at = new Date(end - spanMs + Math.floor((k / count) * spanMs));
        return toPendingEvent(eventInputSchema.parse({ ...input, occurredAt: at.toISOString() }), tenant, uuidv7(at.getTime()), at);
      });
      const { events, head: next } = extendChain(head, pending);
      const stream = client.query(copyFrom(`COPY events (${eventColumns.join(", ")}) FROM STDIN`));
      await pipeline(Readable.from([copyPayload(events)]), stream);
      head = next;
      opts.log?.(`generated ${done + n} / ${count}`);
    }
  } finally {
    await client.end();
  }
  await pool.query("UPDATE chain_heads SET seq = $2, hash = $3 WHERE tenant = $1", [tenant, head.seq, head.hash]);
  // COPY bypasses the append path, so the tenant's Merkle tree is built here rather than by the server's back-fill
  // job in the middle of a measurement.
  while ((await backfillTreeStep(pool, tenant)) > 0);
  if (opts.searchDocuments !== false) await bulkSearchDocuments(pool, tenant);
  return head;
}

/**
 * Writes the tenant's search documents (ADR 9) as the server's search indexer would, but in one statement with the
 * trigram index built afterwards, which is many times faster than the indexer's batches for millions of events
 * loaded at once. The rows are the same: `trailkeeper_search_text` of each event.
 */
export async function bulkSearchDocuments(pool: Pool, tenant: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("SET maintenance_work_mem = '1GB'");
    await client.query("SET statement_timeout = 0");
    await client.query("DROP INDEX search_documents_trgm");
    await client.query(
      `INSERT INTO search_documents (tenant, seq, received_at, doc) SELECT tenant, seq, received_at, ${searchTextSql} FROM events WHERE tenant = $1 ON CONFLICT DO NOTHING`,
      [tenant],
    );
    await client.query(timeBucketsUpsert, [tenant, 0, Number.MAX_SAFE_INTEGER]);
    await client.query("INSERT INTO search_index_heads (tenant, seq) SELECT tenant, seq FROM chain_heads WHERE tenant = $1 ON CONFLICT (tenant) DO UPDATE SET seq = excluded.seq", [tenant]);
    await client.query("CREATE INDEX search_documents_trgm ON search_documents USING gin (doc gin_trgm_ops)");
  } finally {
    client.release();
  }
}
