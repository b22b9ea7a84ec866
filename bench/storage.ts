/**
 * Bytes on disk per event (issue 16, docs/scaling.md "Capacity model"): generates BENCH_STORAGE_EVENTS (default
 * 200,000) realistic events for one tenant with their chain and Merkle tree, signs a checkpoint, runs VACUUM
 * ANALYZE, and prints the size of the events table (all partitions, heap and TOAST), each of its indexes, and the
 * per-tenant side tables (search documents written by the search indexer's batches), divided by the number of events. Sizes do not depend on the machine's load, unlike rates.
 * `node bench/storage.ts`.
 */
import { freshBenchDatabase } from "./lib/database.ts";
import { generateTenantEvents } from "./lib/generate.ts";
import { indexSearchStep } from "../core/src/db/search-index.ts";
import { fmtInt, intEnv, markdownTable, table } from "./lib/stats.ts";

const events = intEnv("BENCH_STORAGE_EVENTS", 200_000);
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);

const db = await freshBenchDatabase();
try {
  log(`generating ${events} events…`);
  // Search documents as the server's indexer writes them (batches into a live trigram index), not built in bulk:
  // a GIN index grown row by row is larger than one built at once.
  await generateTenantEvents(db.pool, db.url, "bench", events, { searchDocuments: false });
  while ((await indexSearchStep(db.pool, "bench")).behind > 0);
  await db.pool.query("VACUUM ANALYZE");
  // Sizes summed over every partition of events (pg_partition_tree), by the parent index each partition index is attached to.
  const parts = await db.pool.query<{ what: string; bytes: string }>(
    `WITH p AS (SELECT relid FROM pg_partition_tree('events') WHERE isleaf)
     SELECT 'events: table (heap, TOAST, free space and visibility maps)' AS what, sum(pg_table_size(relid))::text AS bytes FROM p
     UNION ALL
     SELECT 'events index ' || parent.relname, sum(pg_relation_size(i.indexrelid))::text
       FROM p JOIN pg_index i ON i.indrelid = p.relid
       JOIN pg_inherits inh ON inh.inhrelid = i.indexrelid JOIN pg_class parent ON parent.oid = inh.inhparent
      GROUP BY parent.relname
     UNION ALL
     SELECT 'search_documents: table (free text, ADR 9)', pg_table_size('search_documents')::text
     UNION ALL
     SELECT 'search_documents index ' || c.relname, pg_relation_size(c.oid)::text
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'search_documents'::regclass
     UNION ALL
     SELECT 'side table ' || t, pg_total_relation_size(t::regclass)::text FROM unnest(ARRAY['merkle_nodes', 'checkpoints', 'chain_heads', 'search_index_heads']) AS t`,
  );
  const rows = parts.rows.map((r) => ({ what: r.what, bytes: Number(r.bytes) })).sort((a, b) => b.bytes - a.bytes);
  const total = rows.reduce((s, r) => s + r.bytes, 0);
  const out = [...rows, { what: "total", bytes: total }].map((r) => [r.what, fmtInt(r.bytes), (r.bytes / events).toFixed(1)]);
  const head = ["what", "bytes", "bytes/event"];
  console.log(`\nStorage of ${fmtInt(events)} events of one tenant (PostgreSQL ${db.serverVersion})\n`);
  console.log(table(head, out));
  if (process.env.BENCH_MARKDOWN === "1") console.log(`\n${markdownTable(head, out)}`);
} finally {
  await db.close();
}
