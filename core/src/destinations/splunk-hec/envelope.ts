import type { StoredEvent } from "../../events/model.ts";
import type { CheckpointRecord } from "../checkpoint-record.ts";
import { cefRecord } from "../../formats/cef.ts";
import type { FormatOf } from "../../formats/formats.ts";
import { ocsfEvent } from "../../formats/ocsf.ts";

/** Metadata of every envelope; Splunk carries nothing over from one object to the next, so each gets all of it. */
export interface HecMetadata {
  sourcetype: string;
  index?: string | undefined;
  source?: string | undefined;
  host?: string | undefined;
}

/** Epoch seconds with milliseconds as decimals (`1700000000.123`), the form every HEC version reads the same way. */
export function hecTime(iso: string): number {
  return Date.parse(iso) / 1000;
}

/** `event` of the envelope per format: the stored event, its OCSF object, or its CEF record as a string. */
export function hecEventBody(event: StoredEvent, format: FormatOf<"splunkHec">): unknown {
  if (format === "ocsf") return ocsfEvent(event);
  if (format === "cef") return cefRecord(event);
  return event;
}

/**
 * One HEC event envelope: the event in the destination's format as `event`, its occurrence time as `time`. Unset
 * metadata is left out (not sent as null) so the token's defaults apply.
 */
export function hecEnvelope(event: StoredEvent, meta: HecMetadata, format: FormatOf<"splunkHec"> = "native"): string {
  return JSON.stringify({ time: hecTime(event.occurredAt), host: meta.host, source: meta.source, sourcetype: meta.sourcetype, index: meta.index, event: hecEventBody(event, format) });
}

/** A batch is the envelopes back to back — no array, no commas; newlines keep it readable and are allowed. */
export function hecBatchBody(envelopes: readonly string[]): string {
  return envelopes.join("\n");
}

/** Sourcetype of checkpoint records, whatever the destination's sourcetype for events. */
export const hecCheckpointSourcetype = "trailkeeper:checkpoint";

/** A checkpoint's envelope: the record as `event`, its signing time as `time`, the checkpoint sourcetype. */
export function hecCheckpointEnvelope(record: CheckpointRecord, meta: HecMetadata): string {
  return JSON.stringify({ time: hecTime(record.time), host: meta.host, source: meta.source, sourcetype: hecCheckpointSourcetype, index: meta.index, event: record });
}
