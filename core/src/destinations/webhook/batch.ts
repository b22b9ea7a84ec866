import { createHash } from "node:crypto";
import type { StoredEvent } from "../../events/model.ts";

/** `type` of every delivery body; receivers dispatch on it (Standard Webhooks payload convention). */
export const auditBatchType = "trailkeeper.audit.batch";

/**
 * The body of one delivery: `{"type":"trailkeeper.audit.batch","events":[…]}` with each stored event exactly as
 * it was hashed (so a receiver can recompute `hash` and follow `prevHash`). Built from already-encoded events so
 * that each is serialised once.
 */
export function auditBatchBody(encodedEvents: readonly string[]): string {
  return `{"type":"${auditBatchType}","events":[${encodedEvents.join(",")}]}`;
}

/**
 * `webhook-id` of a batch, derived rather than random so that every retry of the same batch — also after an
 * operator restart or a leader change — carries the same idempotency key. Without dots, as the spec requires.
 */
export function auditBatchMessageId(destinationUid: string, batch: readonly StoredEvent[]): string {
  const first = batch[0]?.seq ?? 0;
  const last = batch.at(-1)?.seq ?? 0;
  const digest = createHash("sha256").update(`${destinationUid}:${first}:${last}:${batch.length}`).digest("hex");
  return `msg_${digest.slice(0, 32)}`;
}
