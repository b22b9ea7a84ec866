import { isUtf8 } from "node:buffer";
import { eventFromCsv, parseCsv, csvColumns } from "../export/csv.ts";
import type { StoredEvent } from "../events/model.ts";
import { openCheckpoint, type Checkpoint } from "./checkpoint-note.ts";
import { ChainVerifier, HashCheckedEvent, type VerifyFailure } from "./chain-verifier.ts";
import { jsonlEvents } from "./export-line.ts";
import { jsonlEventsParallel, minParallelBytes, sharedCopy } from "./export-lines.ts";
import { leafHashBinary, RootBuilder } from "./merkle.ts";
import type { KnownSubtree } from "./multi-proof.ts";
import { openProofBundle, proveEvent, type OpenedBundle } from "./proof-bundle.ts";
import type { NoteVerifier } from "./signing-key.ts";
import { named, openWitnessed, witnessCheck, WitnessInputError, type ConsistencyProofResult, type NamedNote, type WitnessedCheckpoint, type WitnessReport } from "./witness.ts";

/** Exit codes of `trailkeeper verify`. */
export const exitCodes = { valid: 0, tampered: 1, unusable: 2 } as const;

export class UnusableInputError extends Error {}

export interface OfflineReport {
  exitCode: 0 | 1 | 2;
  format: "csv" | "jsonl";
  tenant: string;
  events: number;
  firstSeq: number;
  lastSeq: number;
  /** Whether the file is a contiguous range whose completeness was proven. */
  complete: boolean;
  filtered: boolean;
  missing: { from: number; to: number }[];
  checkpointsMatched: number;
  /** Events whose inclusion in a signed Merkle tree was proven (with proof bundles). */
  proven: number;
  failure?: VerifyFailure;
  notes: string[];
  /** With witnessed checkpoints: what they proved (docs/integrity.md §7). */
  witness?: WitnessReport;
}

export interface VerifyOptions {
  /** Checkpoints (signed notes), e.g. from the server's list; a name makes a fork report name its note. */
  notes?: (string | NamedNote)[];
  verifier?: NoteVerifier;
  filtered?: boolean;
  proofBundles?: string[];
  /** Checkpoint notes taken from a copy the server cannot rewrite. */
  witnessed?: NamedNote[];
  /** Consistency proofs between witnessed sizes, from any source (they are verified against the witnessed roots). */
  consistencyProof?: (from: number, to: number) => ConsistencyProofResult;
}

/** An exported event as the walk takes it: parsed, or (a JSONL line in canonical form) with its hash already checked. */
export type ExportedEvent = StoredEvent | HashCheckedEvent;

export interface ParsedExport {
  format: "csv" | "jsonl";
  events: ExportedEvent[];
}

/**
 * Reads a JSONL or CSV export (sniffed from its first line) into events. A JSONL export given as valid UTF-8 bytes
 * (or a well-formed string) takes the fast path of export-line.ts for its canonical lines, a large one on two
 * threads (export-lines.ts; bytes in shared memory, readFileShared, save a copy) unless `worker` is false. The
 * events are the same either way.
 */
export function parseExport(input: string | Buffer, opts: { worker?: boolean } = {}): ParsedExport {
  const bytes = typeof input === "string" ? (input.isWellFormed() ? Buffer.from(input, "utf8") : undefined) : isUtf8(input) ? input : undefined;
  const fast = bytes && jsonlBody(bytes);
  if (fast) {
    const full = (l: string, n: number) => wrap(() => checkShape(JSON.parse(l)), `JSONL line ${n}`);
    if (opts.worker === false) return { format: "jsonl", events: jsonlEvents(fast, full) };
    return { format: "jsonl", events: jsonlEventsParallel(fast.length >= minParallelBytes ? sharedCopy(fast) : fast, full) };
  }
  const text = typeof input === "string" ? input : input.toString("utf8");
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  if (body.startsWith(`${csvColumns.join(",")}\r\n`) || body.startsWith(`${csvColumns.join(",")}\n`)) {
    const records = [...parseCsv(body)].slice(1);
    return { format: "csv", events: records.map((cells, i) => wrap(() => eventFromCsv(cells), `CSV record ${i + 2}`)) };
  }
  const lines = body.split("\n").filter((l) => l.trim() !== "");
  return { format: "jsonl", events: lines.map((l, i) => wrap(() => checkShape(JSON.parse(l)), `JSONL line ${i + 1}`)) };
}

const utf8Bom = Buffer.from([0xef, 0xbb, 0xbf]);
const csvStart = Buffer.from(csvColumns.join(","), "utf8");

/** The bytes after a BOM, unless they are a CSV export (the header line) or empty. */
function jsonlBody(bytes: Buffer): Buffer | undefined {
  const body = bytes.subarray(0, 3).equals(utf8Bom) ? bytes.subarray(3) : bytes;
  const afterHeader = body[csvStart.length];
  const csv = body.subarray(0, csvStart.length).equals(csvStart) && (afterHeader === 0x0a || (afterHeader === 0x0d && body[csvStart.length + 1] === 0x0a));
  return csv || body.length === 0 ? undefined : body;
}

function wrap<T>(fn: () => T, where: string): T {
  try {
    return fn();
  } catch (err) {
    throw new UnusableInputError(`${where}: ${(err as Error).message}`);
  }
}

function checkShape(v: unknown): StoredEvent {
  const e = v as Partial<StoredEvent>;
  if (typeof e !== "object" || e === null || !Number.isSafeInteger(e.seq) || typeof e.hash !== "string" || typeof e.prevHash !== "string" || typeof e.tenant !== "string") {
    throw new Error("not a stored Trailkeeper event (needs tenant, seq, prevHash, hash)");
  }
  return e as StoredEvent;
}

/** Accepts a signed note, the API's checkpoint JSON, or its paged list; returns the notes. */
export function notesFromCheckpointFile(text: string): string[] {
  const t = text.trimStart();
  if (!t.startsWith("{") && !t.startsWith("[")) return [text];
  const v = JSON.parse(t) as { note?: string; checkpoints?: { note: string }[] } | { note: string }[];
  const list = Array.isArray(v) ? v : v.checkpoints ?? [v];
  return list.map((c) => {
    if (typeof c.note !== "string") throw new UnusableInputError("checkpoint JSON without a note");
    return c.note;
  });
}

/**
 * Verifies an export offline. A contiguous export proves continuity from its first seq; gaps are tampering
 * unless the export is declared filtered, in which case only each event's own hash (and links between
 * neighbours that happen to be consecutive) can be proven. Signed checkpoints pin hashes at their seq; a
 * checkpoint signed before the export's last event but beyond it proves a truncated tail.
 */
export function verifyExport(text: string, opts: VerifyOptions = {}): OfflineReport {
  return verifyParsedExport(parseExport(text), opts);
}

/** verifyExport of an export already parsed (the CLI parses once to learn which consistency proofs to fetch). */
export function verifyParsedExport(parsed: ParsedExport, opts: VerifyOptions = {}): OfflineReport {
  const { format, events } = parsed;
  const { tenant, fromServer, bundles, witness: witnessInput } = openInputs(parsed, opts);
  const checkpoints = [...fromServer, ...(witnessInput?.witnessed ?? [])];

  const first = events[0]!;
  const last = events.at(-1)!;
  const pinned = new Map(checkpoints.map((c) => [c.seq, c.hash]));
  const filtered = opts.filtered === true;
  const walker = new ChainVerifier(pinned, { seq: first.seq - 1, hash: first.prevHash }, !filtered);
  // Witness findings come first: a fork or a rewritten history is the failure to report, whatever else follows.
  const witness = witnessInput && witnessCheck({ ...witnessInput, proofOf: opts.consistencyProof ?? (() => undefined) });
  if (witness) failWitness(witness, walker);
  for (const e of events) walker.push(e);
  // A bundle's signed root is compared too: the witness check counts on it where the export reaches its size.
  if (first.seq === 1 && !filtered) {
    const tree = checkMerkleRoots(events, [...checkpoints, ...bundles.map((b) => b.checkpoint)], walker);
    if (tree) for (const b of bundles) b.reuse?.(rebuiltSubtrees(events, tree));
  }
  const proven = proveInclusion(events, bundles, walker);
  const notes = checkTail(checkpoints, last, walker);
  const startsAt = filtered ? undefined : startNote(first, pinned, walker);
  const r = walker.finish({ complete: false });

  const failure = r.failure;
  notes.push(...summaryNotes({ filtered, bundles, proven, events: events.length, startsAt, witness }));
  return {
    exitCode: failure ? exitCodes.tampered : exitCodes.valid,
    format, tenant, events: events.length, firstSeq: first.seq, lastSeq: last.seq,
    complete: !filtered && r.missing.length === 0 && !failure,
    filtered, missing: r.missing, checkpointsMatched: r.checkpointsMatched, proven,
    ...(failure ? { failure } : {}), notes, ...(witness ? { witness } : {}),
  };
}

/** The report's notes after the tail's: what was not claimed, what the proofs covered, where continuity starts. */
function summaryNotes(s: { filtered: boolean; bundles: readonly OpenedBundle[]; proven: number; events: number; startsAt: string | undefined; witness: ReturnType<typeof witnessCheck> | undefined }): string[] {
  const out: string[] = [];
  if (s.filtered) out.push("filtered export: each event's integrity is proven, completeness cannot be shown");
  if (s.bundles.length > 0) out.push(`inclusion proven for ${s.proven} of ${s.events} events in the signed Merkle tree of size ${[...new Set(s.bundles.map((b) => b.checkpoint.seq))].join(", ")}`);
  if (s.startsAt) out.push(s.startsAt);
  if (s.witness) out.push(...witnessNotes(s.witness));
  return out;
}

/**
 * Where continuity is proven from when the export does not start at seq 1. A signed checkpoint of the seq just
 * before it (the checkpoint sealing a retention boundary, docs/operations.md "Retention") anchors the first link.
 */
function startNote(first: ExportedEvent, pinned: ReadonlyMap<number, string>, walker: ChainVerifier): string | undefined {
  if (first.seq === 1) return undefined;
  const anchor = pinned.get(first.seq - 1);
  if (anchor === undefined) return `the export starts at seq ${first.seq}: continuity is proven from there, not from the chain's start`;
  if (anchor !== first.prevHash) {
    walker.fail({ seq: first.seq, reason: "checkpoint_mismatch", message: `the signed checkpoint at seq ${first.seq - 1} has hash ${anchor}, but the export's first event links to ${first.prevHash}` });
  }
  return `the export starts at seq ${first.seq}, after the signed checkpoint at seq ${first.seq - 1} (a retention boundary when events before it were pruned): continuity is proven from that checkpoint`;
}

/** A checkpoint beyond the export signed before the export's time proves a truncated tail; later ones are listed. */
function checkTail(checkpoints: readonly Checkpoint[], last: ExportedEvent, walker: ChainVerifier): string[] {
  const beyond = checkpoints.filter((c) => c.seq > last.seq);
  const truncatedBy = beyond.find((c) => c.time <= last.receivedAt);
  if (truncatedBy) {
    walker.fail({ seq: last.seq + 1, reason: "truncated", message: `a checkpoint signed at ${truncatedBy.time} covers seq ${truncatedBy.seq}, but the export, taken later, ends at seq ${last.seq}` });
  }
  const newer = new Set(beyond.filter((c) => c !== truncatedBy).map((c) => c.seq));
  return [...newer].map((seq) => `checkpoint at seq ${seq} is newer than the export and was not checked against its events`);
}

function exportTenant(events: readonly ExportedEvent[]): string {
  if (events.length === 0) throw new UnusableInputError("the export holds no events");
  const tenant = events[0]!.tenant;
  if (events.some((e) => e.tenant !== tenant)) throw new UnusableInputError("the export mixes tenants");
  return tenant;
}

const namedNotes = (notes: readonly (string | NamedNote)[]): NamedNote[] =>
  notes.map((n, i) => (typeof n === "string" ? { name: `checkpoint ${i + 1}`, text: n } : n));

type WitnessInput = Omit<Parameters<typeof witnessCheck>[0], "proofOf">;

/** Opens every signed input (server checkpoints, proof bundles, witnessed notes) for the export's tenant. */
function openInputs(parsed: ParsedExport, opts: VerifyOptions): { tenant: string; fromServer: Checkpoint[]; bundles: OpenedBundle[]; witness?: WitnessInput } {
  const tenant = exportTenant(parsed.events);
  const serverNotes = namedNotes(opts.notes ?? []);
  const fromServer = openCheckpoints(serverNotes.map((n) => n.text), tenant, opts.verifier);
  const bundles = openBundles(opts.proofBundles ?? [], tenant, opts.verifier);
  if (opts.witnessed === undefined) return { tenant, fromServer, bundles };
  const { witnessed, otherTenants } = openWitnesses(opts.witnessed, tenant, opts.verifier);
  const first = parsed.events[0]!;
  return {
    tenant, fromServer, bundles,
    witness: {
      witnessed, otherTenants, notes: witnessed.length,
      fromServer: fromServer.map((c, i) => named(c, serverNotes[i]!.name)),
      fromBundles: bundles.map((b, i) => named(b.checkpoint, `proof bundle ${i + 1}`)),
      // An unfiltered export from seq 1 rebuilds the roots of every size it reaches: those need no proof.
      coveredUpTo: first.seq === 1 && opts.filtered !== true ? parsed.events.at(-1)!.seq : 0,
    },
  };
}

/** The tenant's witnessed checkpoints, signatures checked. */
function openWitnesses(notes: readonly NamedNote[], tenant: string, verifier: NoteVerifier | undefined): { witnessed: WitnessedCheckpoint[]; otherTenants: number } {
  if (!verifier) throw new UnusableInputError("witnessed checkpoints need --public-key to be checked");
  try {
    const { checkpoints, otherTenants } = openWitnessed(notes, tenant, verifier);
    if (checkpoints.length === 0) throw new UnusableInputError(`none of the ${notes.length} witnessed checkpoints is for tenant ${tenant}`);
    return { witnessed: checkpoints, otherTenants };
  } catch (err) {
    throw err instanceof WitnessInputError ? new UnusableInputError(err.message) : err;
  }
}

/** The (from, to) sizes whose consistency proofs a verification with witnessed checkpoints will ask for. */
export function consistencyProofsNeeded(parsed: ParsedExport, opts: VerifyOptions): [number, number][] {
  const { witness } = openInputs(parsed, opts);
  const asked: [number, number][] = [];
  if (witness) witnessCheck({ ...witness, proofOf: (from, to) => void asked.push([from, to]) });
  return asked;
}

function failWitness(w: WitnessReport, walker: ChainVerifier): void {
  for (const f of w.forks) walker.fail({ seq: f.seq, reason: "fork", message: `two checkpoints of size ${f.seq} sign different states: ${f.notes[0]} and ${f.notes[1]}` });
  for (const i of w.inconsistent) walker.fail({ seq: i.from, reason: "consistency_proof_invalid", message: i.message });
}

function witnessNotes(w: WitnessReport): string[] {
  return [
    `witnessed: ${w.notes} notes, ${w.checkpoints} distinct checkpoints${w.otherTenants > 0 ? ` (${w.otherTenants} notes of other tenants skipped)` : ""}; consistent links: ${w.consistent.length}`,
    ...w.forks.map((f) => `fork at size ${f.seq}: ${f.notes[0]} and ${f.notes[1]} sign different states`),
    ...w.inconsistent.map((i) => `inconsistent from ${i.from} to ${i.to}: ${i.message}`),
    ...w.unchecked.map((u) => `consistency from ${u.from} (${u.notes[0]}) to ${u.to} (${u.notes[1]}) was not checked: no proof (pass --server, or --consistency files)`),
  ];
}

/** Opens signed checkpoints with the verifier key; all must be the export's tenant's. */
function openCheckpoints(notes: readonly string[], tenant: string, verifier: NoteVerifier | undefined): Checkpoint[] {
  if (notes.length > 0 && !verifier) throw new UnusableInputError("checkpoints need --public-key to be checked");
  const checkpoints = notes.map((n) => wrap(() => openCheckpoint(n, verifier!), "checkpoint"));
  const foreign = checkpoints.find((c) => c.tenant !== tenant);
  if (foreign) throw new UnusableInputError(`a checkpoint is for tenant ${foreign.tenant}, the export for ${tenant}`);
  return checkpoints;
}

/**
 * An export from seq 1 holds every leaf of the tree, so the Merkle root a checkpoint signs is recomputed and
 * compared at each checkpoint's size (old-format checkpoints sign no root and are checked by their chain hash).
 * Returns the rebuilt tree (up to the first gap), whose large subtrees format 2 bundles then reuse; exported for
 * its test.
 */
export function checkMerkleRoots(events: readonly ExportedEvent[], checkpoints: readonly Checkpoint[], walker: ChainVerifier): RootBuilder | undefined {
  const roots = new Map(checkpoints.filter((c) => c.root !== undefined).map((c) => [c.seq, c.root!]));
  if (roots.size === 0) return undefined;
  const tree = new RootBuilder(reusedSubtreeLevel);
  for (const e of events) {
    // A gap or a malformed hash has already failed the walk; the leaves after it would be misplaced. A hash-checked
    // event's hash is a digest just computed, so always well-formed.
    if (e.seq !== tree.size + 1 || !(e instanceof HashCheckedEvent || /^[0-9a-f]{64}$/.test(e.hash))) return tree;
    tree.append(e instanceof HashCheckedEvent ? e.leaf : leafHashBinary(e.hash));
    const signed = roots.get(tree.size);
    const root = signed === undefined ? undefined : tree.root();
    if (signed !== undefined && signed !== root) {
      walker.fail({ seq: tree.size, reason: "checkpoint_mismatch", message: `a signed checkpoint says the Merkle tree of ${tree.size} events has root ${signed}, the export's events give ${root}` });
    }
  }
  return tree;
}

/** Subtrees of 256 leaves and more are kept from the rebuild for multi-proofs: a few hundred hashes per 100,000 events. */
const reusedSubtreeLevel = 8;

/**
 * What a format 2 bundle's multi-proof check may take from the rebuilt tree: the hash of a complete subtree whose
 * leaves, the export's events seq lo + 1 … hi (events[lo …], the export starting at seq 1 without gaps up to
 * tree.size), have exactly the bundle's chain hashes; the same MTH of the same leaves, computed once.
 */
function rebuiltSubtrees(events: readonly ExportedEvent[], tree: RootBuilder): (hashes: readonly string[]) => KnownSubtree {
  return (hashes) => (lo, hi, at) => {
    const count = hi - lo;
    const level = Math.log2(count);
    if (!Number.isInteger(level) || level < reusedSubtreeLevel || lo % count !== 0 || hi > tree.size) return undefined;
    const h = tree.subtree(level, lo / count);
    if (h === undefined) return undefined;
    for (let i = 0; i < count; i++) if (events[lo + i]!.hash !== hashes[at + i]) return undefined;
    return h;
  };
}

/** Checks every event's inclusion proof (when bundles are given); returns how many were proven. */
function proveInclusion(events: readonly ExportedEvent[], bundles: readonly OpenedBundle[], walker: ChainVerifier): number {
  if (bundles.length === 0) return 0;
  let proven = 0;
  const hint = {};
  for (const e of events) {
    const r = proveEvent(bundles, e.seq, e.hash, e instanceof HashCheckedEvent, hint);
    if ("size" in r) proven += 1;
    else walker.fail({ seq: e.seq, reason: "inclusion_proof_invalid", message: r.reason });
  }
  return proven;
}

/** Opens proof bundles (their checkpoints' signatures are checked with the verifier key). */
function openBundles(texts: readonly string[], tenant: string, verifier: NoteVerifier | undefined): OpenedBundle[] {
  if (texts.length > 0 && !verifier) throw new UnusableInputError("proof bundles need --public-key to be checked");
  return texts.map((t, i) => {
    const b = wrap(() => openProofBundle(t, verifier!), `proof bundle ${i + 1}`);
    if (b.checkpoint.tenant !== tenant) throw new UnusableInputError(`proof bundle ${i + 1} is for tenant ${b.checkpoint.tenant}, the export for ${tenant}`);
    return b;
  });
}
