import { checkpointsFrom } from "@trailkeeper/core/db/checkpoints.ts";
import { eventSelectList, rowToSerialisableEvent, type EventRow } from "@trailkeeper/core/db/event-rows.ts";
import type { Pool } from "@trailkeeper/core/db/pool.ts";
import { forEachRow } from "@trailkeeper/core/db/stream.ts";
import { genesisHash } from "@trailkeeper/core/events/chain.ts";
import { openCheckpoint } from "@trailkeeper/core/integrity/checkpoint-note.ts";
import { ChainVerifier, type VerifyResult } from "@trailkeeper/core/integrity/chain-verifier.ts";
import type { NoteVerifier } from "@trailkeeper/core/integrity/signing-key.ts";

/**
 * Rows per cursor batch. Small batches keep the rows in V8's young generation, which the chart caps at 4 MiB
 * (apiServer.nodeOptions): with 1000-row batches, rows were promoted and verification ran at 110–130k events/s;
 * with 100, at about 195k (bench/search.ts; the next batch is prefetched either way).
 */
const verifyBatchRows = 100;

/**
 * Verifies a tenant's stored chain from `fromSeq` to `toSeq` (default: the head) against the signed checkpoints
 * stored beside it. Checkpoint signatures are checked with our public key, so a database administrator who
 * rewrites events and recomputes hashes, or deletes the tail, is caught by a checkpoint they cannot re-sign.
 */
export async function verifyStoredChain(pool: Pool, verifier: NoteVerifier, tenant: string, fromSeq: number, toSeq?: number): Promise<VerifyResult> {
  const head = (await pool.query<{ seq: number; hash: string }>("SELECT seq, hash FROM chain_heads WHERE tenant = $1", [tenant])).rows[0] ?? { seq: 0, hash: genesisHash };
  const complete = toSeq === undefined || toSeq >= head.seq;
  const to = complete ? Number.MAX_SAFE_INTEGER : toSeq;

  const signed = new Map<number, string>();
  const badSignatures: { seq: number; message: string }[] = [];
  for (const cp of await checkpointsFrom(pool, tenant, fromSeq)) {
    if (cp.seq > to) continue;
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
    const prev = (await pool.query<{ hash: string }>("SELECT hash FROM events WHERE tenant = $1 AND seq = $2", [tenant, fromSeq - 1])).rows[0];
    start = { seq: fromSeq - 1, hash: prev?.hash ?? "" };
  }
  const walker = new ChainVerifier(signed, start);
  for (const b of badSignatures) walker.fail({ seq: b.seq, reason: "checkpoint_signature_invalid", message: b.message });
  await forEachRow<EventRow>(
    pool,
    `SELECT ${eventSelectList} FROM events WHERE tenant = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq`,
    [tenant, fromSeq, to],
    (row) => walker.push(rowToSerialisableEvent(row)),
    verifyBatchRows,
  );
  return walker.finish({ complete, expectedHead: complete ? { seq: Number(head.seq), hash: head.hash } : undefined });
}
