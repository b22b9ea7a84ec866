import { createHash } from "node:crypto";
import type { StoredEvent } from "../../events/model.ts";
import { checkpointRecordId, checkpointRecordType, type CheckpointRecord } from "../checkpoint-record.ts";
import type { FormatOf } from "../../formats/formats.ts";
import { ocsfEvent, ocsfVersion } from "../../formats/ocsf.ts";

/** `type` of every delivery body; receivers dispatch on it (Standard Webhooks payload convention). */
export const auditBatchType = "trailkeeper.audit.batch";

/**
 * The body of one delivery: `{"type":"trailkeeper.audit.batch","events":[…]}` with each stored event exactly as
 * it was hashed (so a receiver can recompute `hash` and follow `prevHash`). Built from already-encoded events so
 * that each is serialised once.
 */
export function auditBatchBody(encodedEvents: readonly string[], format: FormatOf<"webhook"> = "native"): string {
  const formatFields = format === "ocsf" ? `"format":"ocsf","ocsfVersion":"${ocsfVersion}",` : "";
  return `{"type":"${auditBatchType}",${formatFields}"events":[${encodedEvents.join(",")}]}`;
}

/** One event as it goes in `events`: the stored event, or its OCSF object (the stored event in its `raw_data`). */
export function webhookEventEncoder(format: FormatOf<"webhook">): (event: StoredEvent) => string {
  return format === "ocsf" ? (event) => JSON.stringify(ocsfEvent(event)) : (event) => JSON.stringify(event);
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

/** A checkpoint delivery: `{"type":"trailkeeper.checkpoint","checkpoint":{tenant, seq, hash, root?, time, note}}`. */
export const checkpointBody = (record: CheckpointRecord): string => JSON.stringify({ type: checkpointRecordType, checkpoint: record });

/** `webhook-id` of a checkpoint, the same on every resend (after a restart too). */
export function checkpointMessageId(destinationUid: string, record: CheckpointRecord): string {
  return `msg_${createHash("sha256").update(`${destinationUid}:${checkpointRecordId(record)}`).digest("hex").slice(0, 32)}`;
}
