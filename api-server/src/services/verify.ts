import { checkpointsAt, checkpointsBetween } from "@trailkeeper/core/db/checkpoints.ts";
import { readChainHead } from "@trailkeeper/core/db/event-store.ts";
import { eventSelectList, rowToSerialisableEvent, type EventRow } from "@trailkeeper/core/db/event-rows.ts";
import type { Pool, Queryable } from "@trailkeeper/core/db/pool.ts";
import { forEachRow, withConnection } from "@trailkeeper/core/db/stream.ts";
import { genesisHash, type ChainHead } from "@trailkeeper/core/events/chain.ts";
import { openCheckpoint } from "@trailkeeper/core/integrity/checkpoint-note.ts";
import { ChainVerifier, type VerifyResult } from "@trailkeeper/core/integrity/chain-verifier.ts";
import type { NoteVerifier } from "@trailkeeper/core/integrity/signing-key.ts";
import { latestBoundary, type RetentionBoundary } from "./retention.ts";

/**
 * Why a retention boundary cannot be trusted, if it cannot: it must be sealed by a validly signed checkpoint of
 * the same hash and recorded in the chain by the audit.retention.prune event that names it (so a row added to
 * retention_boundaries by hand, to make old events deletable, is caught).
 */
async function boundaryFault(db: Queryable, verifier: NoteVerifier, tenant: string, b: RetentionBoundary): Promise<string | undefined> {
  const cp = (await checkpointsAt(db, tenant, [b.seq])).get(b.seq);
  if (!cp) return `the retention boundary at seq ${b.seq} has no checkpoint`;
  try {
    const opened = openCheckpoint(cp.note, verifier);
    if (opened.seq !== b.seq || opened.hash !== b.hash || opened.tenant !== tenant) return `the checkpoint sealing the retention boundary at seq ${b.seq} does not sign its hash`;
  } catch (err) {
    return `the checkpoint sealing the retention boundary at seq ${b.seq}: ${(err as Error).message}`;
  }
  const rec = (await db.query<{ seq: string; action: string; details: string | null }>("SELECT seq, action, details FROM events WHERE tenant = $1 AND id = $2", [tenant, b.eventId])).rows[0];
  const details = rec?.details ? (JSON.parse(rec.details) as { prunedThrough?: unknown }) : {};
  if (!rec || rec.action !== "audit.retention.prune" || details.prunedThrough !== b.seq || Number(rec.seq) <= b.seq) {
    return `the retention boundary at seq ${b.seq} is not recorded in the chain by an audit.retention.prune event`;
  }
  return undefined;
}

/** The head before the walk's first event: the genesis, the boundary's sealed hash, or the stored event before. */
async function walkStart(db: Queryable, tenant: string, from: number, boundary: RetentionBoundary | undefined): Promise<ChainHead> {
  if (boundary && from === boundary.seq + 1) return { seq: boundary.seq, hash: boundary.hash };
  if (from <= 1) return { seq: 0, hash: genesisHash };
  const prev = (await db.query<{ hash: string }>("SELECT hash FROM events WHERE tenant = $1 AND seq = $2", [tenant, from - 1])).rows[0];
  return { seq: from - 1, hash: prev?.hash ?? "" };
}

/**
 * Verifies a tenant's stored chain from `fromSeq` to `toSeq` (default: the head) against the signed checkpoints
 * stored beside it. Checkpoint signatures are checked with our public key, so a database administrator who
 * rewrites events and recomputes hashes, or deletes the tail, is caught by a checkpoint they cannot re-sign.
 * `statementTimeoutMs` replaces the pool's statement timeout for this walk, which may read millions of rows.
 */
export function verifyStoredChain(pool: Pool, verifier: NoteVerifier, tenant: string, fromSeq: number, toSeq?: number, statementTimeoutMs?: number): Promise<VerifyResult & { prunedThrough?: number }> {
  // One snapshot: events appended while the walk runs must not be taken for rows past the head.
  return withConnection(pool, async (db) => {
    const head = (await readChainHead(db, tenant)) ?? { seq: 0, hash: genesisHash };
    const complete = toSeq === undefined || toSeq >= head.seq;
    // A complete walk reads past the stored head too: rows beyond it are a fault that finish() reports.
    const to = complete ? Number.MAX_SAFE_INTEGER : toSeq;

    // Events before a retention boundary are gone: the walk starts from the boundary's sealed hash.
    const boundary = await latestBoundary(db, tenant);
    const from = boundary && fromSeq <= boundary.seq ? boundary.seq + 1 : fromSeq;
    const signed = new Map<number, string>();
    const badSignatures: { seq: number; message: string }[] = [];
    for (const cp of await checkpointsBetween(db, tenant, from, to)) {
      try {
        const opened = openCheckpoint(cp.note, verifier);
        if (opened.seq !== cp.seq || opened.hash !== cp.hash || opened.tenant !== tenant) throw new Error("note does not match its row");
        signed.set(cp.seq, cp.hash);
      } catch (err) {
        badSignatures.push({ seq: cp.seq, message: `checkpoint at seq ${cp.seq}: ${(err as Error).message}` });
      }
    }

    const walker = new ChainVerifier(signed, await walkStart(db, tenant, from, boundary));
    for (const b of badSignatures) walker.fail({ seq: b.seq, reason: "checkpoint_signature_invalid", message: b.message });
    if (boundary) {
      const fault = await boundaryFault(db, verifier, tenant, boundary);
      if (fault) walker.fail({ seq: boundary.seq, reason: "retention_boundary_invalid", message: fault });
    }
    await forEachRow<EventRow>(
      db,
      `SELECT ${eventSelectList} FROM events WHERE tenant = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq`,
      [tenant, from, to],
      (row) => walker.push(rowToSerialisableEvent(row)),
    );
    return { ...walker.finish({ complete, expectedHead: complete ? head : undefined }), ...(boundary ? { prunedThrough: boundary.seq } : {}) };
  }, { snapshot: true, ...(statementTimeoutMs === undefined ? {} : { statementTimeoutMs }) });
}
