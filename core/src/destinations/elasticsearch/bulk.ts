import { itemOutcomeOfStatus } from "../../forwarding/classify.ts";
import type { ItemOutcome } from "../../forwarding/types.ts";

/**
 * One `create` pair of a `_bulk` body, newline-terminated (the last line too). `create` with `_id` = event id
 * makes a resent event a 409 instead of a second document, and is the only action data streams accept.
 */
export function bulkCreatePair(eventId: string, document: string): string {
  return `{"create":{"_id":${JSON.stringify(eventId)}}}\n${document}\n`;
}

/** Only what the forwarder reads, so a reply with one item per event stays small (Elasticsearch's `filter_path`). */
export const bulkFilterPath = "errors,items.*.status,items.*.error.type,items.*.error.reason";

export interface BulkItem {
  status?: number;
  error?: { type?: string; reason?: string };
}

export interface BulkReply {
  errors?: boolean;
  items?: Record<string, BulkItem>[];
}

/**
 * The verdict on one item: created or already there (409 on `create` with our `_id`) is delivered; the rest by
 * the one classifier — 429, 5xx and the configuration failures 401/403/404 are retried alone, 400 and other
 * mapping errors are rejected and dead-lettered.
 */
export function bulkItemOutcome(item: BulkItem | undefined): ItemOutcome {
  const status = item?.status ?? 0;
  if (status === 409) return { status: "delivered" };
  const reason = `item status ${status}${item?.error === undefined ? "" : ` ${item.error.type ?? "error"}: ${(item.error.reason ?? "").slice(0, 500)}`}`;
  return itemOutcomeOfStatus(status, reason);
}

/** Per-event verdicts from a 200 reply, or undefined when the reply does not have one item per event. */
export function bulkOutcomes(reply: BulkReply | undefined, count: number): ItemOutcome[] | undefined {
  if (reply === undefined) return undefined;
  if (reply.errors === false && reply.items === undefined) return Array.from({ length: count }, () => ({ status: "delivered" as const }));
  if (reply.items?.length !== count) return undefined;
  return reply.items.map((entry) => bulkItemOutcome(Object.values(entry)[0]));
}
