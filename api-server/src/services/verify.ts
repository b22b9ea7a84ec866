import { checkpointsBetween } from "@trailkeeper/core/db/checkpoints.ts";
import { readChainHead } from "@trailkeeper/core/db/event-store.ts";
import { eventSelectList, rowToSerialisableEvent, type EventRow } from "@trailkeeper/core/db/event-rows.ts";
import type { Pool } from "@trailkeeper/core/db/pool.ts";
import { forEachRow, withConnection } from "@trailkeeper/core/db/stream.ts";
import { genesisHash } from "@trailkeeper/core/events/chain.ts";
import { openCheckpoint } from "@trailkeeper/core/integrity/checkpoint-note.ts";
import { ChainVerifier, type VerifyResult } from "@trailkeeper/core/integrity/chain-verifier.ts";
import type { NoteVerifier } from "@trailkeeper/core/integrity/signing-key.ts";

/**
 * Verifies a tenant's stored chain from `fromSeq` to `toSeq` (default: the head) against the signed checkpoints
 * stored beside it. Checkpoint signatures are checked with our public key, so a database administrator who
 * rewrites events and recomputes hashes, or deletes the tail, is caught by a checkpoint they cannot re-sign.
 * `statementTimeoutMs` replaces the pool's statement timeout for this walk, which may read millions of rows.
 */
export function verifyStoredChain(pool: Pool, verifier: NoteVerifier, tenant: string, fromSeq: number, toSeq?: number, statementTimeoutMs?: number): Promise<VerifyResult> {
  // One snapshot: events appended while the walk runs must not be taken for rows past the head.
  return withConnection(pool, async (db) => {
    const head = (await readChainHead(db, tenant)) ?? { seq: 0, hash: genesisHash };
    const complete = toSeq === undefined || toSeq >= head.seq;
    // A complete walk reads past the stored head too: rows beyond it are a fault that finish() reports.
    const to = complete ? Number.MAX_SAFE_INTEGER : toSeq;

    const signed = new Map<number, string>();
    const badSignatures: { seq: number; message: string }[] = [];
    for (const cp of await checkpointsBetween(db, tenant, fromSeq, to)) {
      try {
        const opened = openCheckpoint(cp.note, verifier);
        if (opened.seq !== cp.seq || opened.hash !== cp.hash || opened.tenant !== tenant) throw new Error("note does not match its row");
        signed.set(cp.seq, cp.hash);
      } catch (err) {
        badSignatures.push({ seq: cp.seq, message: `checkpoint at seq ${cp.seq}: ${(err as Error).message}` });
      }
    }

    let start = { seq: 0, hash: genesisHash };
    if (fromSeq > 1) {
      const prev = (await db.query<{ hash: string }>("SELECT hash FROM events WHERE tenant = $1 AND seq = $2", [tenant, fromSeq - 1])).rows[0];
      start = { seq: fromSeq - 1, hash: prev?.hash ?? "" };
    }
    const walker = new ChainVerifier(signed, start);
    for (const b of badSignatures) walker.fail({ seq: b.seq, reason: "checkpoint_signature_invalid", message: b.message });
    await forEachRow<EventRow>(
      db,
      `SELECT ${eventSelectList} FROM events WHERE tenant = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq`,
      [tenant, fromSeq, to],
      (row) => walker.push(rowToSerialisableEvent(row)),
    );
    return walker.finish({ complete, expectedHead: complete ? head : undefined });
  }, { snapshot: true, ...(statementTimeoutMs === undefined ? {} : { statementTimeoutMs }) });
}
