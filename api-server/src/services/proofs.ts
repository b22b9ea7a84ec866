import { checkpointsAt, latestMerkleCheckpoint, type StoredCheckpoint } from "@trailkeeper/core/db/checkpoints.ts";
import { readAppendHead } from "@trailkeeper/core/db/event-store.ts";
import { consistencyProof, inclusionProof, inclusionProofs, MerkleNodeMissingError, merkleNodeReader, treeRootsAt } from "@trailkeeper/core/db/merkle-tree.ts";
import type { Pool, Queryable } from "@trailkeeper/core/db/pool.ts";
import { leafHash, rangeHashes } from "@trailkeeper/core/integrity/merkle.ts";
import { multiProofRanges } from "@trailkeeper/core/integrity/multi-proof.ts";
import { multiProofBundleFormat, proofBundleFormat, type MultiProofBundle, type ProofBundle } from "@trailkeeper/core/integrity/proof-bundle.ts";
import { Problem } from "../problem.ts";
import { latestBoundary } from "./retention.ts";

/**
 * Runs a proof computation; one that needs leaves retention removed is answered 410 (docs/operations.md,
 * "Retention"): proofs of kept events, and trees at least as large as the boundary, never do.
 */
async function unlessPruned<T>(db: Queryable, tenant: string, compute: () => Promise<T>): Promise<T> {
  try {
    return await compute();
  } catch (err) {
    if (!(err instanceof MerkleNodeMissingError)) throw err;
    const boundary = await latestBoundary(db, tenant);
    if (!boundary) throw err;
    throw new Problem(410, "pruned", `this proof needs events at or below seq ${boundary.seq}, which retention removed; ask for tree sizes of at least ${boundary.seq}`);
  }
}

/** Proof hashes are base64, as on a checkpoint's root hash line (and Go's tlog.Hash in JSON). */
const b64 = (h: Buffer) => h.toString("base64");

export interface InclusionProofBody {
  id: string;
  seq: number;
  /** The event's chain hash (hex): the leaf's data. */
  hash: string;
  leafIndex: number;
  treeSize: number;
  leafHash: string;
  rootHash: string;
  proof: string[];
  /** The signed checkpoint of this tree size, when there is one. */
  checkpoint: StoredCheckpoint | null;
}

export interface ConsistencyProofBody {
  from: number;
  to: number;
  fromRoot: string;
  toRoot: string;
  proof: string[];
  fromCheckpoint: StoredCheckpoint | null;
  toCheckpoint: StoredCheckpoint | null;
}

/** The tree size a proof is asked for, or the latest Merkle checkpoint's; never beyond the stored tree. */
async function resolveSize(db: Queryable, tenant: string, param: string, size: number | undefined): Promise<number> {
  const treeSize = (await readAppendHead(db, tenant))?.tree.size ?? 0;
  const wanted = size ?? (await latestMerkleCheckpoint(db, tenant))?.seq;
  if (wanted === undefined) throw new Problem(404, "no_checkpoint", `no Merkle checkpoint has been signed for this tenant yet; pass ${param}`);
  if (wanted > treeSize) {
    throw new Problem(400, "invalid_tree_size", `the tenant's Merkle tree has ${treeSize} events`, [{ path: param, message: `must be at most ${treeSize}` }]);
  }
  return wanted;
}

export async function eventInclusionProof(pool: Pool, tenant: string, id: string, size: number | undefined): Promise<InclusionProofBody> {
  const event = (await pool.query<{ seq: string; hash: string }>("SELECT seq, hash FROM events WHERE tenant = $1 AND id = $2", [tenant, id])).rows[0];
  if (!event) throw new Problem(404, "unknown_event", `no event ${id}`);
  const seq = Number(event.seq);
  const treeSize = await resolveSize(pool, tenant, "size", size);
  if (seq > treeSize) throw new Problem(400, "invalid_tree_size", `event ${id} (seq ${seq}) is not in the tree of ${treeSize} events`, [{ path: "size", message: `must be at least ${seq}` }]);
  const [proof, [root], checkpoints] = await unlessPruned(pool, tenant, () => Promise.all([
    inclusionProof(pool, tenant, seq, treeSize), treeRootsAt(pool, tenant, [treeSize]), checkpointsAt(pool, tenant, [treeSize]),
  ]));
  return {
    id, seq, hash: event.hash, leafIndex: seq - 1, treeSize, leafHash: b64(leafHash(event.hash)), rootHash: b64(root!), proof: proof.map(b64),
    checkpoint: checkpoints.get(treeSize) ?? null,
  };
}

export async function treeConsistencyProof(pool: Pool, tenant: string, from: number, to: number | undefined): Promise<ConsistencyProofBody> {
  const toSize = await resolveSize(pool, tenant, "to", to);
  if (from > toSize) throw new Problem(400, "invalid_tree_size", `from (${from}) is above to (${toSize})`, [{ path: "from", message: `must be at most ${toSize}` }]);
  const [proof, [fromRoot, toRoot], checkpoints] = await unlessPruned(pool, tenant, () => Promise.all([
    consistencyProof(pool, tenant, from, toSize), treeRootsAt(pool, tenant, [from, toSize]), checkpointsAt(pool, tenant, [from, toSize]),
  ]));
  return {
    from, to: toSize, fromRoot: b64(fromRoot!), toRoot: b64(toRoot!), proof: proof.map(b64),
    fromCheckpoint: checkpoints.get(from) ?? null, toCheckpoint: checkpoints.get(toSize) ?? null,
  };
}

/** Most events one proof bundle covers; a larger export asks for several bundles. */
export const maxBundleEvents = 10_000;

/**
 * Inclusion proofs of the given events in the tree a signed Merkle checkpoint covers (the latest, or the one of
 * `size`), with that checkpoint: what `trailkeeper verify --proofs` needs to prove a filtered export.
 */
export async function proofBundle(
  pool: Pool, tenant: string, seqs: readonly number[], size: number | undefined, format: ProofBundle["format"] | MultiProofBundle["format"] = proofBundleFormat,
): Promise<ProofBundle | MultiProofBundle> {
  const checkpoint = size === undefined ? await latestMerkleCheckpoint(pool, tenant) : (await checkpointsAt(pool, tenant, [size])).get(size);
  if (!checkpoint?.root) throw new Problem(404, "no_checkpoint", size === undefined ? "no Merkle checkpoint has been signed for this tenant yet" : `no Merkle checkpoint has been signed at size ${size}`);
  const unique = [...new Set(seqs)].sort((a, b) => a - b);
  const beyond = unique.find((s) => s > checkpoint.seq);
  if (beyond !== undefined) throw new Problem(400, "invalid_tree_size", `seq ${beyond} is not in the tree of ${checkpoint.seq} events`, [{ path: "seqs", message: `must be at most ${checkpoint.seq}` }]);
  const events = await pool.query<{ seq: string; hash: string }>("SELECT seq, hash FROM events WHERE tenant = $1 AND seq = ANY($2::bigint[]) ORDER BY seq", [tenant, unique]);
  if (format === multiProofBundleFormat) return multiProofBundle(pool, tenant, checkpoint, events.rows);
  const proofs = await unlessPruned(pool, tenant, () => inclusionProofs(pool, tenant, events.rows.map((e) => Number(e.seq)), checkpoint.seq));
  return {
    format: proofBundleFormat, tenant, treeSize: checkpoint.seq, checkpoint: { seq: checkpoint.seq, note: checkpoint.note },
    proofs: events.rows.map((e, i) => ({ seq: Number(e.seq), hash: e.hash, proof: proofs[i]!.map(b64) })),
  };
}

/** Format 2: one multi-proof (core/src/integrity/multi-proof.ts) for all the events, with their chain hashes. */
async function multiProofBundle(pool: Pool, tenant: string, checkpoint: StoredCheckpoint, rows: readonly { seq: string; hash: string }[]): Promise<MultiProofBundle> {
  const seqs = rows.map((e) => Number(e.seq));
  const ranges = multiProofRanges(seqs.map((s) => s - 1), checkpoint.seq);
  const nodes = await unlessPruned(pool, tenant, () => rangeHashes(ranges, merkleNodeReader(pool, tenant)));
  return {
    format: multiProofBundleFormat, tenant, treeSize: checkpoint.seq, checkpoint: { seq: checkpoint.seq, note: checkpoint.note },
    seqs, hashes: rows.map((e) => e.hash), nodes: nodes.map(b64),
  };
}
