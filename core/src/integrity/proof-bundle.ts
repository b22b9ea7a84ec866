import { openCheckpoint, type Checkpoint } from "./checkpoint-note.ts";
import { InclusionVerifier, leafHash } from "./merkle.ts";
import type { NoteVerifier } from "./signing-key.ts";

/** Identifies a proof bundle file (docs/integrity.md §6). */
export const proofBundleFormat = "trailkeeper-proofs/1";

/** Inclusion proofs of some events in the tree of one signed Merkle checkpoint. */
export interface ProofBundle {
  format: typeof proofBundleFormat;
  tenant: string;
  treeSize: number;
  checkpoint: { seq: number; note: string };
  /** `hash`: the event's chain hash (the leaf data); `proof`: base64 audit path, leaf to root. */
  proofs: { seq: number; hash: string; proof: string[] }[];
}

export class ProofBundleError extends Error {}

/** The signed tree a bundle's proofs lead to, after checking the bundle's shape and its checkpoint's signature. */
export interface OpenedBundle {
  checkpoint: Checkpoint & { root: string };
  proofs: Map<number, { hash: string; proof: Buffer[] }>;
  /** Checks the bundle's proofs against its signed root, sharing the work between neighbouring events. */
  inclusion: InclusionVerifier;
}

export function openProofBundle(text: string, verifier: NoteVerifier): OpenedBundle {
  const b = JSON.parse(text) as Partial<ProofBundle>;
  if (b.format !== proofBundleFormat || !Array.isArray(b.proofs) || typeof b.checkpoint?.note !== "string") {
    throw new ProofBundleError(`not a proof bundle (format ${proofBundleFormat})`);
  }
  const cp = openCheckpoint(b.checkpoint.note, verifier);
  if (cp.root === undefined) throw new ProofBundleError("the bundle's checkpoint signs no Merkle root");
  // The tree size is the signed one: a bundle claiming another size would check proofs against the wrong tree.
  if (b.treeSize !== cp.seq || b.tenant !== cp.tenant) throw new ProofBundleError(`the bundle claims tree size ${b.treeSize} of ${b.tenant}, its checkpoint signs ${cp.seq} of ${cp.tenant}`);
  const proofs = new Map<number, { hash: string; proof: Buffer[] }>();
  for (const p of b.proofs) {
    if (!Number.isSafeInteger(p.seq) || typeof p.hash !== "string" || !Array.isArray(p.proof)) throw new ProofBundleError("malformed proof entry");
    proofs.set(p.seq, { hash: p.hash, proof: p.proof.map((h) => Buffer.from(String(h), "base64")) });
  }
  return { checkpoint: { ...cp, root: cp.root }, proofs, inclusion: new InclusionVerifier(cp.seq, Buffer.from(cp.root, "hex")) };
}

/**
 * Whether the event (seq, hash) is leaf seq − 1 of one of the signed trees: its own proof must lead to that
 * tree's signed root. Returns the tree size it was proven in, or a reason it was not.
 */
export function proveEvent(bundles: readonly OpenedBundle[], seq: number, hash: string): { size: number } | { reason: string } {
  if (!/^[0-9a-f]{64}$/.test(hash)) return { reason: `seq ${seq} has no SHA-256 hash` };
  let reason = `no proof for seq ${seq} in the proof bundles`;
  for (const b of bundles) {
    const p = b.proofs.get(seq);
    if (!p) continue;
    if (seq > b.checkpoint.seq) {
      reason = `seq ${seq} is beyond the signed tree of ${b.checkpoint.seq} events`;
    } else if (p.hash !== hash) {
      reason = `the proof is for hash ${p.hash}, the event has ${hash}`;
    } else if (b.inclusion.verify(seq - 1, leafHash(hash), p.proof)) {
      return { size: b.checkpoint.seq };
    } else {
      reason = `the inclusion proof of seq ${seq} does not lead to the root signed for size ${b.checkpoint.seq}`;
    }
  }
  return { reason };
}
