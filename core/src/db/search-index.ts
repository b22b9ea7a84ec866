import { searchTextSql } from "../search/filters.ts";
import { inTransaction, type Pool, type Queryable } from "./pool.ts";

/**
 * The search indexer's storage side (ADR 9): the free-text document of each event is written to
 * `search_documents` after the append, in batches, and `search_index_heads` records per tenant that events 1..seq
 * have theirs. Searches read documents at or below that mark and recompute the document of events above it.
 */

/** Events indexed per transaction: large enough to amortise the statement, small enough to keep locks short. */
export const searchIndexBatch = 5_000;

/** Namespace of the per-tenant advisory lock that keeps two replicas from indexing the same events at once. */
const indexLockSpace = 0x7472_6978;

/** Every event of the tenant at or below this seq has its search document (0: none yet). */
export async function indexedThrough(db: Queryable, tenant: string): Promise<number> {
  const row = (await db.query<{ seq: string }>("SELECT seq FROM search_index_heads WHERE tenant = $1", [tenant])).rows[0];
  return row ? Number(row.seq) : 0;
}

/** Raises the per-hour seq bounds (search_time_buckets) by the tenant's events in (from, to]. */
export const timeBucketsUpsert = `INSERT INTO search_time_buckets (tenant, hour, max_seq)
  SELECT tenant, date_trunc('hour', occurred_at, 'UTC'), max(seq) FROM events WHERE tenant = $1 AND seq > $2 AND seq <= $3 GROUP BY 1, 2
  ON CONFLICT (tenant, hour) DO UPDATE SET max_seq = greatest(search_time_buckets.max_seq, excluded.max_seq)`;

/**
 * The highest seq an indexed event (at or below the tenant's mark) occurring in [from, to) can have, or 0 when no
 * indexed event occurred in those hours. Events above the mark are not covered.
 */
export async function windowSeqBound(db: Queryable, tenant: string, from: Date | undefined, to: Date | undefined): Promise<number> {
  const row = (await db.query<{ bound: string | null }>(
    `SELECT max(max_seq) AS bound FROM search_time_buckets
     WHERE tenant = $1 AND ($2::timestamptz IS NULL OR hour >= date_trunc('hour', $2::timestamptz, 'UTC')) AND ($3::timestamptz IS NULL OR hour < $3::timestamptz)`,
    [tenant, from ?? null, to ?? null],
  )).rows[0];
  return row?.bound == null ? 0 : Number(row.bound);
}

export interface IndexStep {
  /** Events whose documents this step wrote (pruned events in its range count as covered, not written). */
  indexed: number;
  /** Events of the tenant still without a document after this step; 0 also when another replica holds the tenant. */
  behind: number;
}

/**
 * Writes the documents of the tenant's next `batch` events and moves its mark, in one transaction. Everything up
 * to the chain head read first is committed (the head moves in the appending transaction), so the range holds no
 * event still in flight. Another replica indexing the tenant at the moment makes this a no-op.
 */
export function indexSearchStep(pool: Pool, tenant: string, batch = searchIndexBatch): Promise<IndexStep> {
  return inTransaction(pool, async (client) => {
    const lock = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS ok", [indexLockSpace, tenant]);
    if (!lock.rows[0]?.ok) return { indexed: 0, behind: 0 };
    const marks = (await client.query<{ head: string; done: string }>(
      "SELECT c.seq AS head, coalesce(s.seq, 0) AS done FROM chain_heads c LEFT JOIN search_index_heads s USING (tenant) WHERE c.tenant = $1",
      [tenant],
    )).rows[0];
    if (!marks) return { indexed: 0, behind: 0 };
    const head = Number(marks.head);
    const done = Number(marks.done);
    const to = Math.min(head, done + batch);
    if (to <= done) return { indexed: 0, behind: 0 };
    const written = await client.query(
      `INSERT INTO search_documents (tenant, seq, received_at, doc)
       SELECT tenant, seq, received_at, ${searchTextSql} FROM events WHERE tenant = $1 AND seq > $2 AND seq <= $3
       ON CONFLICT (tenant, seq) DO NOTHING`,
      [tenant, done, to],
    );
    await client.query(timeBucketsUpsert, [tenant, done, to]);
    await client.query(
      "INSERT INTO search_index_heads (tenant, seq) VALUES ($1, $2) ON CONFLICT (tenant) DO UPDATE SET seq = excluded.seq",
      [tenant, to],
    );
    return { indexed: written.rowCount ?? 0, behind: head - to };
  });
}

export interface TenantLag {
  tenant: string;
  behind: number;
}

/** Tenants whose chain runs ahead of their search mark, most behind first. */
export async function searchIndexLag(db: Queryable): Promise<TenantLag[]> {
  const rows = (await db.query<{ tenant: string; behind: string }>(
    `SELECT c.tenant, c.seq - coalesce(s.seq, 0) AS behind FROM chain_heads c LEFT JOIN search_index_heads s USING (tenant)
     WHERE c.seq > coalesce(s.seq, 0) ORDER BY behind DESC, c.tenant`,
  )).rows;
  return rows.map((r) => ({ tenant: r.tenant, behind: Number(r.behind) }));
}
