import type { StoredEvent } from "../../events/model.ts";

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

/**
 * One HEC event envelope: the stored event as `event`, its occurrence time as `time`. Unset metadata is left out
 * (not sent as null) so the token's defaults apply.
 */
export function hecEnvelope(event: StoredEvent, meta: HecMetadata): string {
  return JSON.stringify({ time: hecTime(event.occurredAt), host: meta.host, source: meta.source, sourcetype: meta.sourcetype, index: meta.index, event });
}

/** A batch is the envelopes back to back — no array, no commas; newlines keep it readable and are allowed. */
export function hecBatchBody(envelopes: readonly string[]): string {
  return envelopes.join("\n");
}
