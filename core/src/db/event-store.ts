import { extendChain, genesisHash, type ChainHead } from "../events/chain.ts";
import type { PendingEvent, StoredEvent } from "../events/model.ts";
import { eventColumnArrayTypes, eventColumns, eventToRow } from "./event-rows.ts";
import type { Pool, PoolClient, Queryable } from "./pool.ts";

/** Channel on which every append is announced (payload: `<tenant>:<head seq>`), for real-time forwarding. */
export const appendChannel = "trailkeeper_events";

export interface AppendedRef {
  id: string;
  seq: number;
  hash: string;
  duplicate: boolean;
}

export class UnknownTenantError extends Error {
  readonly code = "unknown_tenant";
  constructor(tenant: string) {
    super(`tenant ${tenant} does not exist`);
  }
}

/** The tenant's chain head, without locking it; undefined for an unknown tenant. */
export async function readChainHead(db: Queryable, tenant: string): Promise<ChainHead | undefined> {
  const row = (await db.query<{ seq: number; hash: string }>("SELECT seq, hash FROM chain_heads WHERE tenant = $1", [tenant])).rows[0];
  return row && { seq: Number(row.seq), hash: row.hash };
}

export async function lockChainHead(client: PoolClient, tenant: string): Promise<ChainHead> {
  const res = await client.query<{ seq: number; hash: string }>(
    "SELECT seq, hash FROM chain_heads WHERE tenant = $1 FOR UPDATE",
    [tenant],
  );
  const row = res.rows[0];
  if (!row) throw new UnknownTenantError(tenant);
  return { seq: Number(row.seq), hash: row.hash };
}

/**
 * Appends events to a tenant's chain inside the caller's transaction. Events whose id is already stored
 * (or appears earlier in `pending`) are not appended again; their stored reference is returned with
 * `duplicate: true`. Results are in input order.
 */
export async function appendToChain(client: PoolClient, tenant: string, pending: readonly PendingEvent[]): Promise<AppendedRef[]> {
  return (await appendToChainWithHead(client, tenant, pending)).refs;
}

/**
 * appendToChain, also returning the chain head after the append. With `newIds` the caller guarantees that no
 * id can already be stored (ids it generated itself), which saves the lookup of stored ids.
 */
export async function appendToChainWithHead(client: PoolClient, tenant: string, pending: readonly PendingEvent[], opts: { newIds?: boolean } = {}): Promise<{ refs: AppendedRef[]; head: ChainHead }> {
  const head = await lockChainHead(client, tenant);
  const stored = opts.newIds ? new Map<string, ChainHead & { id: string }>() : await storedRefs(client, tenant, pending);
  // Each input maps to a stored row or to its first occurrence among the fresh events.
  const fresh: PendingEvent[] = [];
  const freshIndex = new Map<string, number>();
  const plan = pending.map((p): { ref: ChainHead & { id: string }; duplicate: boolean } | { index: number; duplicate: boolean } => {
    const ref = stored.get(p.id);
    if (ref) return { ref, duplicate: true };
    const first = freshIndex.get(p.id);
    if (first !== undefined) return { index: first, duplicate: true };
    freshIndex.set(p.id, fresh.length);
    fresh.push(p);
    return { index: fresh.length - 1, duplicate: false };
  });
  const { events, head: newHead } = extendChain(head, fresh);
  if (events.length > 0) {
    await insertEvents(client, events);
    await client.query("UPDATE chain_heads SET seq = $2, hash = $3 WHERE tenant = $1", [tenant, newHead.seq, newHead.hash]);
    await client.query("SELECT pg_notify($1, $2)", [appendChannel, `${tenant}:${newHead.seq}`]);
  }
  const refs = plan.map((step) => {
    const ref = "ref" in step ? step.ref : events[step.index]!;
    return { id: ref.id, seq: ref.seq, hash: ref.hash, duplicate: step.duplicate };
  });
  return { refs, head: newHead };
}

async function storedRefs(client: PoolClient, tenant: string, pending: readonly PendingEvent[]): Promise<Map<string, ChainHead & { id: string }>> {
  const ids = [...new Set(pending.map((p) => p.id))];
  const existing = await client.query<{ id: string; seq: number; hash: string }>(
    "SELECT id, seq, hash FROM events WHERE tenant = $1 AND id = ANY($2::uuid[])",
    [tenant, ids],
  );
  return new Map(existing.rows.map((r) => [r.id, { id: r.id, seq: Number(r.seq), hash: r.hash }]));
}

/** The `unnest` parameters ($1…$21) of a multi-row insert of `events`. */
function columnArrays(events: readonly StoredEvent[]): unknown[][] {
  const columns = eventColumns.map(() => [] as unknown[]);
  for (const e of events) eventToRow(e).forEach((v, i) => columns[i]!.push(v));
  return columns;
}

const unnestInsert = `INSERT INTO events (${eventColumns.join(", ")}) SELECT * FROM unnest(${eventColumnArrayTypes.map((t, i) => `$${i + 1}::${t}`).join(", ")})`;

async function insertEvents(client: PoolClient, events: readonly StoredEvent[]): Promise<void> {
  await client.query(unnestInsert, columnArrays(events));
}

/**
 * The optimistic append: one autocommit statement that moves the chain head from `expected` and inserts the
 * events, or does nothing at all when the head is no longer `expected` (another writer appended since). The
 * UPDATE takes the head's row lock; if a concurrent writer holds it, PostgreSQL re-checks the condition against
 * that writer's committed head, so two writers can never both match. The events' ids must be new (generated
 * by the caller): a stored id fails the statement on the unique (tenant, id) index, writing nothing.
 *
 * Compared with appendToChain (BEGIN, SELECT … FOR UPDATE, INSERT, UPDATE, NOTIFY, COMMIT) this is one round
 * trip, and no lock is held while this process's event loop is busy elsewhere.
 */
export async function appendAtHead(pool: Pool, tenant: string, expected: ChainHead, pending: readonly PendingEvent[]): Promise<{ refs: AppendedRef[]; head: ChainHead } | undefined> {
  const { events, head } = extendChain(expected, pending);
  const n = eventColumns.length;
  const res = await pool.query<{ inserted: number }>(
    `WITH h AS (UPDATE chain_heads SET seq = $${n + 1}, hash = $${n + 2} WHERE tenant = $${n + 3} AND seq = $${n + 4} AND hash = $${n + 5} RETURNING 1),
          ins AS (${unnestInsert} WHERE EXISTS (SELECT 1 FROM h) RETURNING 1)
     SELECT (SELECT count(*) FROM ins)::int AS inserted, (SELECT pg_notify($${n + 6}, $${n + 7}) FROM h) AS notified`,
    [...columnArrays(events), head.seq, head.hash, tenant, expected.seq, expected.hash, appendChannel, `${tenant}:${head.seq}`],
  );
  // The INSERT writes all rows or none (the statement is atomic and its WHERE does not depend on the row).
  if (res.rows[0]!.inserted === 0) return undefined;
  return { refs: events.map((e) => ({ id: e.id, seq: e.seq, hash: e.hash, duplicate: false })), head };
}

/** Creates a tenant and its empty chain head; returns false when it already existed. */
export async function createTenant(client: PoolClient, tenant: string): Promise<boolean> {
  const res = await client.query("INSERT INTO tenants (id) VALUES ($1) ON CONFLICT DO NOTHING", [tenant]);
  if (res.rowCount === 0) return false;
  await client.query("INSERT INTO chain_heads (tenant, seq, hash) VALUES ($1, 0, $2)", [tenant, genesisHash]);
  return true;
}
