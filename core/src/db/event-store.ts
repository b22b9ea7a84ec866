import { extendChain, genesisHash, type ChainHead } from "../events/chain.ts";
import type { PendingEvent, StoredEvent } from "../events/model.ts";
import { decodeFrontier, encodeFrontier, extendTree, leafHash, type TreeNode, type TreeState } from "../integrity/merkle.ts";
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

/** The chain head with the tenant's Merkle tree state, stored in the same row (ADR 6). */
export interface AppendHead extends ChainHead {
  tree: TreeState;
}

interface HeadRow {
  seq: number;
  hash: string;
  tree_size: number;
  tree_frontier: Buffer;
}

const headColumns = "seq, hash, tree_size, tree_frontier";

const toAppendHead = (row: HeadRow): AppendHead => ({ seq: Number(row.seq), hash: row.hash, tree: decodeFrontier(Number(row.tree_size), row.tree_frontier) });

/** The chain head with its tree, without locking it; undefined for an unknown tenant. */
export async function readAppendHead(db: Queryable, tenant: string): Promise<AppendHead | undefined> {
  const row = (await db.query<HeadRow>(`SELECT ${headColumns} FROM chain_heads WHERE tenant = $1`, [tenant])).rows[0];
  return row && toAppendHead(row);
}

export async function lockChainHead(client: PoolClient, tenant: string): Promise<AppendHead> {
  const res = await client.query<HeadRow>(`SELECT ${headColumns} FROM chain_heads WHERE tenant = $1 FOR UPDATE`, [tenant]);
  const row = res.rows[0];
  if (!row) throw new UnknownTenantError(tenant);
  return toAppendHead(row);
}

/**
 * The tree after appending `events` at `head`. While the back-fill job has not caught up with the chain
 * (tree size below the head seq) the tree is left alone: the job adds these events later, in order.
 */
export function growTree(head: AppendHead, events: readonly StoredEvent[]): { tree: TreeState; completed: TreeNode[] } {
  if (head.tree.size !== head.seq) return { tree: head.tree, completed: [] };
  return extendTree(head.tree, events.map((e) => leafHash(e.hash)));
}

/** The `unnest` arrays (level, idx, hash) of completed Merkle nodes. */
export const nodeArrays = (nodes: readonly TreeNode[]) => [nodes.map((n) => n.level), nodes.map((n) => n.index), nodes.map((n) => n.hash)];

export async function insertMerkleNodes(client: Queryable, tenant: string, nodes: readonly TreeNode[]): Promise<void> {
  if (nodes.length === 0) return;
  await client.query("INSERT INTO merkle_nodes (tenant, level, idx, hash) SELECT $1, * FROM unnest($2::smallint[], $3::bigint[], $4::bytea[])", [tenant, ...nodeArrays(nodes)]);
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
export async function appendToChainWithHead(client: PoolClient, tenant: string, pending: readonly PendingEvent[], opts: { newIds?: boolean } = {}): Promise<{ refs: AppendedRef[]; head: AppendHead }> {
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
  const { events, head: chained } = extendChain(head, fresh);
  const { tree, completed } = growTree(head, events);
  const newHead = { ...chained, tree };
  if (events.length > 0) {
    await insertEvents(client, events);
    await insertMerkleNodes(client, tenant, completed);
    await client.query("UPDATE chain_heads SET seq = $2, hash = $3, tree_size = $4, tree_frontier = $5 WHERE tenant = $1", [tenant, newHead.seq, newHead.hash, tree.size, encodeFrontier(tree.frontier)]);
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
  await client.query({ name: "trailkeeper_insert_events", text: unnestInsert, values: columnArrays(events) });
}

/**
 * The optimistic append: one autocommit statement that moves the chain head from `expected` and inserts the
 * events, or does nothing at all when the head is no longer `expected` (another writer appended since). The
 * UPDATE takes the head's row lock; if a concurrent writer holds it, PostgreSQL re-checks the condition against
 * that writer's committed head, so two writers can never both match. The events' ids must be new (generated
 * by the caller): since events is partitioned by time, no index can refuse an id stored in another partition
 * (ADR 0008), so ids a client chose go through appendToChain, which looks them up under the head's lock.
 *
 * Compared with appendToChain (BEGIN, SELECT … FOR UPDATE, INSERT, UPDATE, NOTIFY, COMMIT) this is one round
 * trip, and no lock is held while this process's event loop is busy elsewhere. The Merkle frontier moves with
 * the head and the completed tree nodes are inserted by the same statement, under the same condition (the
 * expected tree size is part of it, as the back-fill job may move the tree of an unchanged chain).
 */
export async function appendAtHead(pool: Pool, tenant: string, expected: AppendHead, pending: readonly PendingEvent[]): Promise<{ refs: AppendedRef[]; head: AppendHead } | undefined> {
  const { events, head: chained } = extendChain(expected, pending);
  const { tree, completed } = growTree(expected, events);
  const head = { ...chained, tree };
  const res = await pool.query<{ inserted: number }>({
    name: "trailkeeper_append_at_head",
    text: appendAtHeadStatement,
    values: [...columnArrays(events), head.seq, head.hash, tenant, expected.seq, expected.hash, appendChannel, `${tenant}:${head.seq}`,
      tree.size, encodeFrontier(tree.frontier), expected.tree.size, ...nodeArrays(completed)],
  });
  // The INSERT writes all rows or none (the statement is atomic and its WHERE does not depend on the row).
  if (res.rows[0]!.inserted === 0) return undefined;
  return { refs: events.map((e) => ({ id: e.id, seq: e.seq, hash: e.hash, duplicate: false })), head };
}

/** appendAtHead's statement: the events' unnest arrays are $1…$columnCount, the head and tree follow. */
const columnCount = eventColumns.length;
const appendAtHeadStatement = `WITH h AS (UPDATE chain_heads SET seq = $${columnCount + 1}, hash = $${columnCount + 2}, tree_size = $${columnCount + 8}, tree_frontier = $${columnCount + 9}
                 WHERE tenant = $${columnCount + 3} AND seq = $${columnCount + 4} AND hash = $${columnCount + 5} AND tree_size = $${columnCount + 10} RETURNING 1),
          ins AS (${unnestInsert} WHERE EXISTS (SELECT 1 FROM h) RETURNING 1),
          nodes AS (INSERT INTO merkle_nodes (tenant, level, idx, hash)
                    SELECT $${columnCount + 3}, * FROM unnest($${columnCount + 11}::smallint[], $${columnCount + 12}::bigint[], $${columnCount + 13}::bytea[]) WHERE EXISTS (SELECT 1 FROM h))
     SELECT (SELECT count(*) FROM ins)::int AS inserted, (SELECT pg_notify($${columnCount + 6}, $${columnCount + 7}) FROM h) AS notified`;

/** Creates a tenant and its empty chain head; returns false when it already existed. */
export async function createTenant(client: PoolClient, tenant: string): Promise<boolean> {
  const res = await client.query("INSERT INTO tenants (id) VALUES ($1) ON CONFLICT DO NOTHING", [tenant]);
  if (res.rowCount === 0) return false;
  await client.query("INSERT INTO chain_heads (tenant, seq, hash) VALUES ($1, 0, $2)", [tenant, genesisHash]);
  return true;
}
