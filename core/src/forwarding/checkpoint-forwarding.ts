import { advancePublished, checkpointsAfter, publicationCursor, seqBeforeLatestCheckpoint } from "../db/checkpoint-publications.ts";
import type { Pool } from "../db/pool.ts";
import { checkpointRecordOf } from "../destinations/checkpoint-record.ts";
import type { EventSender } from "./types.ts";

export interface CheckpointDestination {
  sender: EventSender;
  /** The cursor's key: `lfd:<LogForwardingDestination uid>`. */
  target: string;
  resource: string;
  tenant: string;
}

/**
 * Sends the tenant's checkpoints signed since the destination's durable cursor as checkpoint records (witnessing,
 * docs/integrity.md §7), oldest first, moving the cursor after each: at least once, in order. A destination new to
 * checkpoints starts with the latest one, as it starts at the head for events. Returns how many were sent; a
 * failure propagates and the next round resumes at the same checkpoint.
 */
export async function forwardCheckpoints(pool: Pool, d: CheckpointDestination, signal: AbortSignal, limit = 100): Promise<number> {
  if (!d.sender.sendCheckpoint) return 0;
  const after = (await publicationCursor(pool, d.target, d.tenant)) ?? (await seqBeforeLatestCheckpoint(pool, d.tenant));
  const pending = await checkpointsAfter(pool, d.tenant, after, limit);
  for (const c of pending) {
    await d.sender.sendCheckpoint(checkpointRecordOf(c), signal);
    await advancePublished(pool, { target: d.target, tenant: d.tenant, resource: d.resource, seq: c.seq });
  }
  return pending.length;
}
