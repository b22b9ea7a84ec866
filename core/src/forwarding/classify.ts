import { classifyNetworkError } from "../net/net-errors.ts";
import type { ItemOutcome } from "./types.ts";

/**
 * The one classifier of delivery failures, shared by every protocol. A whole request either may be retried
 * (the destination or the network is unwell, or credentials may be fixed), is permanent (the batch itself is
 * unacceptable: it is split until the offending event is found and dead-lettered), or means the destination
 * is gone for good (webhook 410: stop and say so).
 */
export type FailureKind = "retryable" | "permanent" | "tooLarge" | "gone";

export class DeliveryError extends Error {
  readonly kind: FailureKind;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  constructor(kind: FailureKind, message: string, opts: { status?: number; retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = "DeliveryError";
    this.kind = kind;
    this.status = opts.status;
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/** HTTP status → failure kind, for batch-level responses. */
export function classifyHttpStatus(status: number): FailureKind {
  if (status === 410) return "gone";
  if (status === 413) return "tooLarge";
  // Auth and routing problems are fixable by a person without losing events: keep the cursor and retry.
  if ([401, 403, 404, 408, 409, 425, 429].includes(status) || status >= 500) return "retryable";
  if (status >= 400) return "permanent";
  return "retryable";
}

/**
 * A non-2xx answer to a whole request, as the error the forwarder acts on: the kind from the status, and the
 * destination's Retry-After (seconds or HTTP date) when it sent one.
 */
export function httpDeliveryError(status: number, message: string, retryAfter?: string | string[]): DeliveryError {
  const header = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
  return new DeliveryError(classifyHttpStatus(status), message, { status, retryAfterMs: parseRetryAfter(header) });
}

/**
 * The verdict on one event of a batch that reports a status per event (Elasticsearch `_bulk` items): what the
 * classifier would retry is retried alone; anything else is rejected for good and dead-lettered.
 */
export function itemOutcomeOfStatus(status: number, reason: string): ItemOutcome {
  if (status >= 200 && status < 300) return { status: "delivered" };
  return classifyHttpStatus(status) === "retryable" ? { status: "retry", reason } : { status: "rejected", reason };
}

/**
 * Network-level errors (refused, reset, timeout, TLS) are always worth retrying; their message names the peer and
 * the cause the way connectivity checks do.
 */
export function classifyError(err: unknown): DeliveryError {
  if (err instanceof DeliveryError) return err;
  const message = classifyNetworkError(err)?.message ?? (err instanceof Error ? err.message : String(err));
  return new DeliveryError("retryable", message, { cause: err });
}

/** Retry-After as seconds or an HTTP date, in milliseconds; undefined when absent or unparsable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Exponential backoff with full jitter, at least the destination's Retry-After, at most `maxMs`. */
export function backoffMs(attempt: number, maxMs: number, retryAfterMs?: number, random = Math.random): number {
  const base = Math.min(maxMs, 500 * 2 ** Math.min(attempt, 20));
  const jittered = base / 2 + random() * (base / 2);
  return Math.min(maxMs, Math.max(jittered, retryAfterMs ?? 0));
}
