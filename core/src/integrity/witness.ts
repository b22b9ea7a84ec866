import { openCheckpoint, type Checkpoint } from "./checkpoint-note.ts";
import { verifyConsistency } from "./merkle.ts";
import type { NoteVerifier } from "./signing-key.ts";

/**
 * Witnessed checkpoints: signed notes taken from a copy the server cannot rewrite (the recording-storage bucket,
 * a SIEM), checked against each other and against the export (docs/integrity.md §7).
 */

/** A signed note and where it came from (a file name), so that a report can name it. */
export interface NamedNote {
  name: string;
  text: string;
}

/** A distinct signed state of the log and every note that vouches for it. */
export interface WitnessedCheckpoint extends Checkpoint {
  names: string[];
}

export interface Fork {
  seq: number;
  /** One note for each of the two conflicting states. */
  notes: [string, string];
}

export interface ConsistencyLink {
  from: number;
  to: number;
  notes: [string, string];
}

export interface WitnessReport {
  /** Witnessed notes of the export's tenant that were read (other tenants' notes are skipped). */
  notes: number;
  otherTenants: number;
  /** Distinct witnessed checkpoints. */
  checkpoints: number;
  forks: Fork[];
  /** Consecutive witnessed checkpoints proven consistent: by recomputing both roots from the export, or by a proof. */
  consistent: (ConsistencyLink & { by: "export" | "proof" })[];
  inconsistent: (ConsistencyLink & { message: string })[];
  /** Consecutive pairs nothing could check (no proof was available). */
  unchecked: ConsistencyLink[];
}

/** A consistency proof for (from, to), or why the source could not give one (e.g. the server refused). */
export type ConsistencyProofResult = { proof: Buffer[] } | { error: string } | undefined;

export class WitnessInputError extends Error {}

/**
 * Opens the notes (signature checked) and keeps the tenant's. Notes of other tenants are counted and skipped,
 * since a bucket's checkpoint folder may hold every tenant's.
 */
export function openWitnessed(notes: readonly NamedNote[], tenant: string, verifier: NoteVerifier): { checkpoints: WitnessedCheckpoint[]; otherTenants: number } {
  const checkpoints: WitnessedCheckpoint[] = [];
  for (const n of notes) {
    let cp: Checkpoint;
    try {
      cp = openCheckpoint(n.text, verifier);
    } catch (err) {
      throw new WitnessInputError(`witnessed checkpoint ${n.name}: ${(err as Error).message}`);
    }
    if (cp.tenant === tenant) checkpoints.push(named(cp, n.name));
  }
  return { checkpoints, otherTenants: notes.length - checkpoints.length };
}

export const named = (c: Checkpoint, name: string): WitnessedCheckpoint =>
  ({ tenant: c.tenant, seq: c.seq, hash: c.hash, time: c.time, ...(c.root === undefined ? {} : { root: c.root }), names: [name] });

/** Merges checkpoints that sign the same state (size, chain head and root), ordered by size. */
export function mergeStates(checkpoints: readonly WitnessedCheckpoint[]): WitnessedCheckpoint[] {
  const byState = new Map<string, WitnessedCheckpoint>();
  for (const c of checkpoints) {
    const key = `${c.seq}/${c.hash}/${c.root ?? ""}`;
    const known = byState.get(key);
    if (known) known.names.push(...c.names.filter((n) => !known.names.includes(n)));
    else byState.set(key, { ...c, names: [...c.names] });
  }
  return [...byState.values()].sort((a, b) => a.seq - b.seq || a.time.localeCompare(b.time));
}

/**
 * Two signed states of the same size that differ: the log showed different histories to different readers. A
 * chain-only checkpoint and a Merkle one of the same chain head are the same state in two formats.
 */
export function findForks(checkpoints: readonly WitnessedCheckpoint[]): Fork[] {
  const differ = (a: WitnessedCheckpoint, b: WitnessedCheckpoint) => a.hash !== b.hash || (a.root !== undefined && b.root !== undefined && a.root !== b.root);
  const forks: Fork[] = [];
  const seen = new Map<number, WitnessedCheckpoint[]>();
  for (const b of checkpoints) {
    const same = seen.get(b.seq) ?? [];
    const a = same.find((c) => differ(c, b));
    if (a) forks.push({ seq: b.seq, notes: [a.names[0]!, b.names[0]!] });
    seen.set(b.seq, [...same, b]);
  }
  return forks;
}

/**
 * The pairs of Merkle checkpoints of consecutive sizes that must be proven consistent (consistency is
 * transitive, so consecutive sizes cover them all). Every state of a forked size is paired with its neighbours,
 * so both sides of a fork are checked. Chain-only checkpoints sign no root and take no part.
 */
export function consistencyPairs(checkpoints: readonly WitnessedCheckpoint[]): [WitnessedCheckpoint, WitnessedCheckpoint][] {
  const bySize = new Map<number, WitnessedCheckpoint[]>();
  for (const c of checkpoints) if (c.root !== undefined) bySize.set(c.seq, [...(bySize.get(c.seq) ?? []), c]);
  const sizes = [...bySize.keys()].sort((a, b) => a - b);
  return sizes.slice(1).flatMap((to, i) => bySize.get(sizes[i]!)!.flatMap((a) => bySize.get(to)!.map((b): [WitnessedCheckpoint, WitnessedCheckpoint] => [a, b])));
}

/**
 * Checks each consecutive pair: pairs whose both sizes the export covers from seq 1 are proven by the roots
 * rebuilt from the export (`coveredUpTo`; checked against the signed roots elsewhere), the others need an
 * RFC 6962 consistency proof verified against the two witnessed roots.
 */
export function checkConsistency(
  pairs: readonly [WitnessedCheckpoint, WitnessedCheckpoint][], coveredUpTo: number, proofOf: (from: number, to: number) => ConsistencyProofResult,
): Pick<WitnessReport, "consistent" | "inconsistent" | "unchecked"> {
  const out: Pick<WitnessReport, "consistent" | "inconsistent" | "unchecked"> = { consistent: [], inconsistent: [], unchecked: [] };
  for (const [a, b] of pairs) {
    const link: ConsistencyLink = { from: a.seq, to: b.seq, notes: [a.names[0]!, b.names[0]!] };
    if (b.seq <= coveredUpTo) {
      out.consistent.push({ ...link, by: "export" });
      continue;
    }
    const r = proofOf(a.seq, b.seq);
    if (r === undefined) out.unchecked.push(link);
    else if ("error" in r) out.inconsistent.push({ ...link, message: `no consistency proof from ${a.seq} to ${b.seq}: ${r.error}` });
    else if (verifyConsistency(a.seq, b.seq, Buffer.from(a.root!, "hex"), Buffer.from(b.root!, "hex"), r.proof)) out.consistent.push({ ...link, by: "proof" });
    else out.inconsistent.push({ ...link, message: `the consistency proof does not show the tree of ${b.seq} (${link.notes[1]}) extending the tree of ${a.seq} (${link.notes[0]}): the log was rewritten` });
  }
  return out;
}

/**
 * The witness checks of one verification: forks among every signed state seen (witnessed, the server's, the
 * proof bundles'), and consistency along the witnessed and bundle checkpoints, so that a bundle's tree is tied
 * to the witnessed ones.
 */
export function witnessCheck(input: {
  witnessed: readonly WitnessedCheckpoint[];
  otherTenants: number;
  notes: number;
  fromServer: readonly WitnessedCheckpoint[];
  fromBundles: readonly WitnessedCheckpoint[];
  coveredUpTo: number;
  proofOf: (from: number, to: number) => ConsistencyProofResult;
}): WitnessReport {
  const witnessed = mergeStates(input.witnessed);
  const forks = findForks(mergeStates([...input.witnessed, ...input.fromServer, ...input.fromBundles]));
  const pairs = consistencyPairs(mergeStates([...input.witnessed, ...input.fromBundles]));
  return { notes: input.notes, otherTenants: input.otherTenants, checkpoints: witnessed.length, forks, ...checkConsistency(pairs, input.coveredUpTo, input.proofOf) };
}

/**
 * Where a published checkpoint lives in a bucket or folder: `<prefix>checkpoints/<tenant>/<size, 20 digits>-<first
 * 16 hex digits of the root (or chain head)>.note`. Names sort by size, and two states of one size (a fork) get
 * two names, so neither overwrites the other.
 */
export function checkpointObjectKey(prefix: string, c: Checkpoint): string {
  const base = prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`;
  return `${base}checkpoints/${c.tenant}/${String(c.seq).padStart(20, "0")}-${(c.root ?? c.hash).slice(0, 16)}.note`;
}
