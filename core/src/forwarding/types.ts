import type { CheckpointRecord } from "../destinations/checkpoint-record.ts";
import type { StoredEvent } from "../events/model.ts";

/** What the destination said about one event of a batch. */
export type ItemOutcome =
  | { status: "delivered" }
  /** Rejected for good (malformed for this destination): dead-letter it, or pause, per onPermanentError. */
  | { status: "rejected"; reason: string }
  /** Not taken this time (throttled, unavailable): send it again. */
  | { status: "retry"; reason: string };

export interface SendOutcome {
  /** One per event of the batch, in order. */
  items: ItemOutcome[];
  /** The destination asked to wait this long before the next attempt (Retry-After). */
  retryAfterMs?: number;
}

/**
 * One destination protocol's delivery side. `send` makes one request for a batch already within `limits`.
 * Whole-request failures are thrown as DeliveryError (see classify.ts); per-event verdicts come back as items.
 */
export interface EventSender {
  readonly limits: { maxEvents: number; maxBytes: number };
  /** Size of one event on the wire before compression, for batching. */
  encodedSize(event: StoredEvent): number;
  send(batch: readonly StoredEvent[], signal: AbortSignal): Promise<SendOutcome>;
  /**
   * Sends one signed checkpoint as the kind's distinct checkpoint record (witnessing); resolves once the
   * destination took it, throws a DeliveryError otherwise. Absent in kinds that cannot carry one.
   */
  sendCheckpoint?(record: CheckpointRecord, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

export const allDelivered = (n: number): SendOutcome => ({ items: Array.from({ length: n }, () => ({ status: "delivered" as const })) });
