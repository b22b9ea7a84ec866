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

/** Network-level errors (refused, reset, timeout, TLS) are always worth retrying. */
export function classifyError(err: unknown): DeliveryError {
  if (err instanceof DeliveryError) return err;
  const message = err instanceof Error ? err.message : String(err);
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
