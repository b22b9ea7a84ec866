import { eventFromCsv, parseCsv, csvColumns } from "../export/csv.ts";
import type { StoredEvent } from "../events/model.ts";
import { openCheckpoint, type Checkpoint } from "./checkpoint-note.ts";
import { ChainVerifier, type VerifyFailure } from "./chain-verifier.ts";
import type { NoteVerifier } from "./signing-key.ts";

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
  failure?: VerifyFailure;
  notes: string[];
}

/** Reads a JSONL or CSV export (sniffed from its first line) into stored events. */
export function parseExport(text: string): { format: "csv" | "jsonl"; events: StoredEvent[] } {
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  if (body.startsWith(`${csvColumns.join(",")}\r\n`) || body.startsWith(`${csvColumns.join(",")}\n`)) {
    const records = [...parseCsv(body)].slice(1);
    return { format: "csv", events: records.map((cells, i) => wrap(() => eventFromCsv(cells), `CSV record ${i + 2}`)) };
  }
  const lines = body.split("\n").filter((l) => l.trim() !== "");
  return { format: "jsonl", events: lines.map((l, i) => wrap(() => checkShape(JSON.parse(l)), `JSONL line ${i + 1}`)) };
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
export function verifyExport(text: string, opts: { notes?: string[]; verifier?: NoteVerifier; filtered?: boolean } = {}): OfflineReport {
  const { format, events } = parseExport(text);
  if (events.length === 0) throw new UnusableInputError("the export holds no events");
  const tenant = events[0]!.tenant;
  if (events.some((e) => e.tenant !== tenant)) throw new UnusableInputError("the export mixes tenants");
  if ((opts.notes?.length ?? 0) > 0 && !opts.verifier) throw new UnusableInputError("checkpoints need --public-key to be checked");

  const checkpoints: Checkpoint[] = (opts.notes ?? []).map((n) => wrap(() => openCheckpoint(n, opts.verifier!), "checkpoint"));
  const foreign = checkpoints.find((c) => c.tenant !== tenant);
  if (foreign) throw new UnusableInputError(`a checkpoint is for tenant ${foreign.tenant}, the export for ${tenant}`);

  const first = events[0]!;
  const last = events.at(-1)!;
  const pinned = new Map(checkpoints.map((c) => [c.seq, c.hash]));
  const filtered = opts.filtered === true;
  const walker = new ChainVerifier(pinned, { seq: first.seq - 1, hash: first.prevHash }, !filtered);
  for (const e of events) walker.push(e);
  const notes: string[] = [];
  const beyond = checkpoints.filter((c) => c.seq > last.seq);
  const truncatedBy = beyond.find((c) => c.time <= last.receivedAt);
  if (truncatedBy) {
    walker.fail({ seq: last.seq + 1, reason: "truncated", message: `a checkpoint signed at ${truncatedBy.time} covers seq ${truncatedBy.seq}, but the export, taken later, ends at seq ${last.seq}` });
  }
  for (const c of beyond.filter((c) => c !== truncatedBy)) notes.push(`checkpoint at seq ${c.seq} is newer than the export and was not checked`);
  const r = walker.finish({ complete: false });

  const failure = r.failure;
  if (filtered) notes.push("filtered export: each event's integrity is proven, completeness cannot be shown");
  if (first.seq !== 1 && !filtered) notes.push(`the export starts at seq ${first.seq}: continuity is proven from there, not from the chain's start`);
  return {
    exitCode: failure ? exitCodes.tampered : exitCodes.valid,
    format, tenant, events: events.length, firstSeq: first.seq, lastSeq: last.seq,
    complete: !filtered && r.missing.length === 0 && !failure,
    filtered, missing: r.missing, checkpointsMatched: r.checkpointsMatched,
    ...(failure ? { failure } : {}), notes,
  };
}
