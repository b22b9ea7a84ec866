import { openCheckpoint, type Checkpoint } from "./checkpoint-note.ts";
import { InclusionVerifier, leafHashText } from "./merkle.ts";
import { multiProofProblem, multiProofRoot, type KnownSubtree } from "./multi-proof.ts";
import type { NoteVerifier } from "./signing-key.ts";

/** Identifies a proof bundle file with one audit path per event (docs/integrity.md §6). */
export const proofBundleFormat = "trailkeeper-proofs/1";
/** Identifies a proof bundle file with one multi-proof for all its events (docs/integrity.md §6, multi-proof.ts). */
export const multiProofBundleFormat = "trailkeeper-proofs/2";

/** Inclusion proofs of some events in the tree of one signed Merkle checkpoint. */
export interface ProofBundle {
  format: typeof proofBundleFormat;
  tenant: string;
  treeSize: number;
  checkpoint: { seq: number; note: string };
  /** `hash`: the event's chain hash (the leaf data); `proof`: base64 audit path, leaf to root. */
  proofs: { seq: number; hash: string; proof: string[] }[];
}

/** The same in format 2: the events' seqs (ascending) and chain hashes, and the multi-proof's node hashes (base64). */
export interface MultiProofBundle {
  format: typeof multiProofBundleFormat;
  tenant: string;
  treeSize: number;
  checkpoint: { seq: number; note: string };
  seqs: number[];
  hashes: string[];
  nodes: string[];
}

export class ProofBundleError extends Error {}

type Proven = { size: number } | { reason: string };

/** The signed tree a bundle's proofs lead to, after checking the bundle's shape and its checkpoint's signature. */
export interface OpenedBundle {
  checkpoint: Checkpoint & { root: string };
  /** Whether the bundle proves that (seq, hash) is in its tree; undefined when it holds no proof for seq. */
  prove(seq: number, hash: string): Proven | undefined;
  /**
   * Format 2: subtree hashes the verifier already computed from the same chain hashes, which the multi-proof check
   * (run at the first prove()) then takes instead of hashing again; `lookup` gets the bundle's chain hashes.
   */
  reuse?(lookup: (hashes: readonly string[]) => KnownSubtree): void;
}

export function openProofBundle(text: string, verifier: NoteVerifier): OpenedBundle {
  const b = JSON.parse(text) as Partial<ProofBundle> | Partial<MultiProofBundle>;
  if ((b.format !== proofBundleFormat && b.format !== multiProofBundleFormat) || typeof b.checkpoint?.note !== "string") {
    throw new ProofBundleError(`not a proof bundle (format ${proofBundleFormat} or ${multiProofBundleFormat})`);
  }
  const cp = openCheckpoint(b.checkpoint.note, verifier);
  if (cp.root === undefined) throw new ProofBundleError("the bundle's checkpoint signs no Merkle root");
  // The tree size is the signed one: a bundle claiming another size would check proofs against the wrong tree.
  if (b.treeSize !== cp.seq || b.tenant !== cp.tenant) throw new ProofBundleError(`the bundle claims tree size ${b.treeSize} of ${b.tenant}, its checkpoint signs ${cp.seq} of ${cp.tenant}`);
  const checkpoint = { ...cp, root: cp.root };
  return b.format === proofBundleFormat ? openPaths(b as Partial<ProofBundle>, checkpoint) : openMultiProof(b as Partial<MultiProofBundle>, checkpoint);
}

/** Format 1: each event's audit path, checked when the event is (sharing the work between neighbours). */
function openPaths(b: Partial<ProofBundle>, checkpoint: OpenedBundle["checkpoint"]): OpenedBundle {
  if (!Array.isArray(b.proofs)) throw new ProofBundleError("malformed proof bundle: no proofs");
  // The elements stay base64 text: InclusionVerifier decodes only the ones it hashes.
  const proofs = new Map<number, { hash: string; proof: string[] }>();
  for (const p of b.proofs) {
    if (!Number.isSafeInteger(p.seq) || typeof p.hash !== "string" || !Array.isArray(p.proof)) throw new ProofBundleError("malformed proof entry");
    proofs.set(p.seq, { hash: p.hash, proof: p.proof });
  }
  const inclusion = new InclusionVerifier(checkpoint.seq, Buffer.from(checkpoint.root, "hex"));
  const proven = { size: checkpoint.seq };
  return {
    checkpoint,
    prove(seq, hash) {
      const p = proofs.get(seq);
      if (!p) return undefined;
      if (seq > checkpoint.seq) return { reason: `seq ${seq} is beyond the signed tree of ${checkpoint.seq} events` };
      if (p.hash !== hash) return { reason: `the proof is for hash ${p.hash}, the event has ${hash}` };
      if (inclusion.verify(seq - 1, leafHashText(hash), p.proof)) return proven;
      return { reason: `the inclusion proof of seq ${seq} does not lead to the root signed for size ${checkpoint.seq}` };
    },
  };
}

/** Format 2: the multi-proof is checked once, here; then an event is proven when the bundle holds its hash. */
function openMultiProof(b: Partial<MultiProofBundle>, checkpoint: OpenedBundle["checkpoint"]): OpenedBundle {
  const { seqs, hashes, nodes } = b;
  if (!Array.isArray(seqs) || !Array.isArray(hashes) || !Array.isArray(nodes) || seqs.length !== hashes.length) {
    throw new ProofBundleError("malformed proof bundle: seqs, hashes and nodes must be arrays, seqs and hashes of one length");
  }
  const indexes = seqs.map((s) => s - 1);
  const problem = multiProofProblem(indexes, Number.MAX_SAFE_INTEGER);
  if (problem !== undefined) throw new ProofBundleError(`malformed proof bundle: ${problem}`);
  // A seq beyond the signed tree fails as it does in format 1 (inclusion_proof_invalid), not as unusable input;
  // the multi-proof cannot hold it, so none of the bundle's events is proven.
  const last = seqs.at(-1);
  const beyond = last !== undefined && last > checkpoint.seq ? `, which also claims seq ${last}, beyond the signed tree of ${checkpoint.seq} events` : undefined;
  let known: KnownSubtree | undefined;
  let checked: boolean | undefined;
  // Checked once, when first needed: by then the verifier may have offered subtrees it rebuilt (reuse).
  const isValid = () => (checked ??= beyond === undefined && multiProofRoot(indexes, hashes, nodes, checkpoint.seq, known) === checkpoint.root);
  const proven = { size: checkpoint.seq };
  return {
    checkpoint,
    reuse(lookup) {
      known = lookup(hashes);
    },
    prove(seq, hash) {
      const i = indexOf(seqs, seq);
      if (i < 0) return undefined;
      if (seq > checkpoint.seq) return { reason: `seq ${seq} is beyond the signed tree of ${checkpoint.seq} events` };
      if (hashes[i] !== hash) return { reason: `the proof is for hash ${hashes[i]}, the event has ${hash}` };
      if (isValid()) return proven;
      return { reason: beyond === undefined ? `the multi-proof holding seq ${seq} does not lead to the root signed for size ${checkpoint.seq}` : `no proof for seq ${seq} in its bundle${beyond}` };
    },
  };
}

/** Position of x in an ascending array, or -1. */
function indexOf(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  if (hi < 0 || x < sorted[0]! || x > sorted[hi]!) return -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid]!;
    if (v === x) return mid;
    if (v < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * Whether the event (seq, hash) is leaf seq − 1 of one of the signed trees: its own proof must lead to that
 * tree's signed root. Returns the tree size it was proven in, or a reason it was not. `digest`: the hash is one
 * just computed from the event's content, so its form needs no check. `hint.last`: the bundle that proved the
 * previous event, tried first (an export in seq order finds the next proof there); only which of several proving
 * bundles is found depends on it.
 */
export function proveEvent(bundles: readonly OpenedBundle[], seq: number, hash: string, digest = false, hint?: { last?: OpenedBundle }): Proven {
  if (!digest && !/^[0-9a-f]{64}$/.test(hash)) return { reason: `seq ${seq} has no SHA-256 hash` };
  const first = hint?.last?.prove(seq, hash);
  if (first !== undefined && "size" in first) return first;
  let reason = `no proof for seq ${seq} in the proof bundles`;
  for (const b of bundles) {
    const r = b.prove(seq, hash);
    if (r === undefined) continue;
    if ("size" in r) {
      if (hint) hint.last = b;
      return r;
    }
    reason = r.reason;
  }
  return { reason };
}
