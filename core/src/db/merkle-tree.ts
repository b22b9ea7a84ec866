import {
  consistencyRanges, encodeFrontier, extendTree, inclusionRanges, leafHash, nodeKeyId, rangeHashes, type LeafRange, type NodeKey, type NodeReader,
} from "../integrity/merkle.ts";
import { insertMerkleNodes, lockChainHead } from "./event-store.ts";
import { inTransaction, type Pool, type Queryable } from "./pool.ts";

/** A node a proof or root needs is not stored: its leaves were pruned by retention, or the store is damaged. */
export class MerkleNodeMissingError extends Error {
  readonly node: NodeKey;
  constructor(tenant: string, node: NodeKey) {
    super(`tenant ${tenant}: Merkle node ${nodeKeyId(node)} is not stored`);
    this.node = node;
  }
}

/** Reads leaf hashes (level 0, from the events' chain hashes) and stored interior nodes of one tenant's tree. */
export function merkleNodeReader(db: Queryable, tenant: string): NodeReader {
  return async (keys: readonly NodeKey[]) => {
    const leaves = keys.filter((k) => k.level === 0).map((k) => k.index + 1);
    const inner = keys.filter((k) => k.level > 0);
    const [events, nodes] = await Promise.all([
      leaves.length === 0 ? { rows: [] } : db.query<{ seq: string; hash: string }>("SELECT seq, hash FROM events WHERE tenant = $1 AND seq = ANY($2::bigint[])", [tenant, leaves]),
      inner.length === 0 ? { rows: [] } : db.query<{ level: number; idx: string; hash: Buffer }>(
        "SELECT n.level, n.idx, n.hash FROM merkle_nodes n JOIN unnest($2::smallint[], $3::bigint[]) AS k(level, idx) USING (level, idx) WHERE n.tenant = $1",
        [tenant, inner.map((k) => k.level), inner.map((k) => k.index)],
      ),
    ]);
    const found = new Map<string, Buffer>();
    for (const e of events.rows) found.set(nodeKeyId({ level: 0, index: Number(e.seq) - 1 }), leafHash(e.hash));
    for (const n of nodes.rows) found.set(nodeKeyId({ level: n.level, index: Number(n.idx) }), n.hash);
    const missing = keys.find((k) => !found.has(nodeKeyId(k)));
    if (missing) throw new MerkleNodeMissingError(tenant, missing);
    return found;
  };
}

/** Root hashes of the trees of the given sizes (each ≤ the stored tree size). */
export async function treeRootsAt(db: Queryable, tenant: string, sizes: readonly number[]): Promise<Buffer[]> {
  const ranges: LeafRange[] = sizes.map((s) => [0, s]);
  return rangeHashes(ranges, merkleNodeReader(db, tenant));
}

/** RFC 6962 audit path of the leaf with `seq` (index seq − 1) in the tree of `size` leaves, leaf to root. */
export function inclusionProof(db: Queryable, tenant: string, seq: number, size: number): Promise<Buffer[]> {
  return rangeHashes(inclusionRanges(seq - 1, size), merkleNodeReader(db, tenant));
}

/** Audit paths of many leaves in one tree, with one read of all the nodes they need (proof bundles). */
export async function inclusionProofs(db: Queryable, tenant: string, seqs: readonly number[], size: number): Promise<Buffer[][]> {
  const perLeaf = seqs.map((seq) => inclusionRanges(seq - 1, size));
  const hashes = await rangeHashes(perLeaf.flat(), merkleNodeReader(db, tenant));
  let at = 0;
  return perLeaf.map((ranges) => hashes.slice(at, (at += ranges.length)));
}

/** RFC 6962 consistency proof from the tree of `from` leaves to the tree of `to` leaves. */
export function consistencyProof(db: Queryable, tenant: string, from: number, to: number): Promise<Buffer[]> {
  return rangeHashes(consistencyRanges(from, to), merkleNodeReader(db, tenant));
}

/** Events added to a lagging tree per transaction: the head row is locked meanwhile, so appends wait that long. */
export const backfillChunk = 10_000;

/**
 * Adds up to `chunk` of the tenant's events that precede its tree (those stored before the tree existed) to
 * the tree, under the head's row lock, committing the frontier and nodes with the new tree size: the job resumes
 * where the last committed chunk ended. Returns how many events are still missing from the tree.
 */
export function backfillTreeStep(pool: Pool, tenant: string, chunk = backfillChunk): Promise<number> {
  return inTransaction(pool, async (client) => {
    const head = await lockChainHead(client, tenant);
    const from = head.tree.size;
    const to = Math.min(head.seq, from + chunk);
    if (to <= from) return 0;
    const rows = (await client.query<{ seq: string; hash: string }>("SELECT seq, hash FROM events WHERE tenant = $1 AND seq > $2 AND seq <= $3 ORDER BY seq", [tenant, from, to])).rows;
    const gap = rows.findIndex((r, i) => Number(r.seq) !== from + i + 1);
    if (rows.length !== to - from || gap >= 0) throw new Error(`tenant ${tenant}: events ${from + 1}..${to} are not all stored; the Merkle tree cannot be back-filled`);
    const { tree, completed } = extendTree(head.tree, rows.map((r) => leafHash(r.hash)));
    await insertMerkleNodes(client, tenant, completed);
    await client.query("UPDATE chain_heads SET tree_size = $2, tree_frontier = $3 WHERE tenant = $1", [tenant, tree.size, encodeFrontier(tree.frontier)]);
    return head.seq - tree.size;
  });
}

export interface BackfillRound {
  /** Tenants whose trees this round completed. */
  completed: string[];
  /** Tenants whose trees cannot be built (missing events): they keep chain-only checkpoints. */
  failed: { tenant: string; error: Error }[];
}

/**
 * The back-fill job: brings every tenant's tree up to its chain, at most `budget` events per call so that a
 * periodic caller (the checkpointer) keeps its other work going; progress is the committed tree size, so a
 * restarted job resumes where it stopped. One tenant's failure does not stop the others.
 */
export async function backfillTrees(pool: Pool, budget = 20 * backfillChunk): Promise<BackfillRound> {
  const lagging = await pool.query<{ tenant: string }>("SELECT tenant FROM chain_heads WHERE tree_size < seq ORDER BY tenant");
  const round: BackfillRound = { completed: [], failed: [] };
  let left = budget;
  for (const { tenant } of lagging.rows) {
    if (left <= 0) break;
    try {
      let remaining = Infinity;
      for (; left > 0 && remaining > 0; left -= backfillChunk) remaining = await backfillTreeStep(pool, tenant, Math.min(left, backfillChunk));
      if (remaining === 0) round.completed.push(tenant);
    } catch (err) {
      round.failed.push({ tenant, error: err as Error });
    }
  }
  return round;
}
