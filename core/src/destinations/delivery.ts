import type { StoredEvent } from "../events/model.ts";
import { DeliveryError, httpDeliveryError } from "../forwarding/classify.ts";
import type { EventSender } from "../forwarding/types.ts";
import { describeResponse, type HttpResponse } from "./http.ts";

/** Protocols without a batch limit of their own: the spec's `delivery.batchSize` and `batchBytes` decide. */
export const noProtocolLimit: EventSender["limits"] = { maxEvents: Number.POSITIVE_INFINITY, maxBytes: Number.POSITIVE_INFINITY };

/**
 * Encodes each event once: the forwarder asks for its size while batching and the sender for its bytes right
 * after, with the same event objects. Entries go when the batch's events do.
 */
export function encodedOnce<T>(encode: (event: StoredEvent) => T): (event: StoredEvent) => T {
  const cache = new WeakMap<StoredEvent, T>();
  return (event) => {
    let value = cache.get(event);
    if (value === undefined) {
      value = encode(event);
      cache.set(event, value);
    }
    return value;
  };
}

/** A whole request the destination did not take, as the forwarder's error: kind by the one classifier, Retry-After kept. */
export function responseFailure(res: HttpResponse, url: URL, hint?: string): DeliveryError {
  const text = describeResponse(res, url);
  return httpDeliveryError(res.status, hint === undefined ? text : `${hint}: ${text}`, res.headers["retry-after"]);
}

/**
 * What a destination that cannot be built (a missing Secret, an unusable key) delivers with: every send fails,
 * retryably and saying why, so the cursor holds and the reason shows in status until someone fixes the cause.
 */
export function unavailableSender(reason: string): EventSender {
  return {
    limits: noProtocolLimit,
    encodedSize: () => 1,
    send: () => Promise.reject(new DeliveryError("retryable", reason)),
    close: async () => {},
  };
}
