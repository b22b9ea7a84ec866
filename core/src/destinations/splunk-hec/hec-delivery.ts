import { DeliveryError, httpDeliveryError } from "../../forwarding/classify.ts";
import type { ItemOutcome, SendOutcome } from "../../forwarding/types.ts";
import { hecCodeFailure, type HecReply } from "./hec-codes.ts";

/** Codes that are about one event's content: that event is rejected for good (protocols.md §1). */
const eventContentCodes = new Set([6, 12, 13, 15]);

/** Codes a person fixes on the Splunk side or in the spec; the events are fine, so the cursor holds. */
const configurationProblems: Record<number, string> = {
  7: "the index is not allowed for this HEC token",
  14: "indexer acknowledgement is disabled on this HEC token",
};

function replyText(reply: HecReply | undefined): string {
  return reply?.code === undefined ? "no HEC reply code" : `HEC code ${reply.code}${reply.text === undefined ? "" : ` (${reply.text})`}`;
}

/**
 * A 400 naming event `k` of `n`: Splunk indexed 0…k-1 and dropped the rest, so those are delivered, `k` is
 * rejected (or retried, when the code is about the configuration rather than the event), and k+1…n are resent.
 */
export function partialBatchOutcome(n: number, k: number, reply: HecReply): SendOutcome {
  const why = replyText(reply);
  const config = configurationProblems[reply.code ?? -1];
  const invalid: ItemOutcome =
    config !== undefined || !eventContentCodes.has(reply.code ?? -1) ? { status: "retry", reason: `${config ?? "not accepted"}: ${why}` } : { status: "rejected", reason: `Splunk HEC rejected the event: ${why}` };
  const items: ItemOutcome[] = [];
  for (let i = 0; i < n; i++) {
    if (i < k) items.push({ status: "delivered" });
    else if (i === k) items.push(invalid);
    else items.push({ status: "retry", reason: `not indexed: HEC dropped the events after invalid event ${k} of the batch` });
  }
  return { items };
}

/**
 * A whole request HEC did not take. Token, channel and index problems are retryable with a message saying what
 * to fix (events must not be dead-lettered for a configuration mistake); busy and unhealthy (503, codes 9 and
 * 18–20) are retryable anyway; what remains goes to the one classifier (400 → bisect, 413 → split).
 */
export function hecDeliveryError(status: number, reply: HecReply | undefined, description: string, retryAfter?: string | string[]): DeliveryError {
  const byStatus = httpDeliveryError(status, description, retryAfter);
  const code = reply?.code;
  const known = code === undefined ? undefined : (hecCodeFailure(code)?.message ?? configurationProblems[code]);
  if (known === undefined) return byStatus;
  return new DeliveryError("retryable", `${known}: ${description}`, { status, retryAfterMs: byStatus.retryAfterMs });
}

/** The event HEC names in a 400 for a batch of `n`, when it names one inside the batch. */
export function invalidEventIndex(status: number, reply: HecReply | undefined, n: number): number | undefined {
  const k = reply?.["invalid-event-number"];
  return status === 400 && typeof k === "number" && Number.isInteger(k) && k >= 0 && k < n ? k : undefined;
}
