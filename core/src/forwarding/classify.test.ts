import { describe, expect, it } from "vitest";
import { backoffMs, classifyHttpStatus, httpDeliveryError, itemOutcomeOfStatus, parseRetryAfter } from "./classify.ts";

describe("delivery failure classification", () => {
  it.each([
    [500, "retryable"], [502, "retryable"], [503, "retryable"], [429, "retryable"], [408, "retryable"], [401, "retryable"],
    [403, "retryable"], [404, "retryable"], [400, "permanent"], [422, "permanent"], [413, "tooLarge"], [410, "gone"],
  ] as const)("HTTP %i is %s", (status, kind) => expect(classifyHttpStatus(status)).toBe(kind));

  it("parses Retry-After seconds and dates", () => {
    expect(parseRetryAfter("7")).toBe(7000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it("backs off exponentially with jitter, honours Retry-After and the cap", () => {
    expect(backoffMs(0, 60_000, undefined, () => 0)).toBe(250);
    expect(backoffMs(3, 60_000, undefined, () => 1)).toBe(4000);
    expect(backoffMs(30, 60_000, undefined, () => 1)).toBe(60_000);
    expect(backoffMs(0, 60_000, 9000, () => 0)).toBe(9000);
    expect(backoffMs(0, 5000, 9000, () => 0)).toBe(5000);
  });

  it("turns a whole-request answer into a DeliveryError with its Retry-After", () => {
    const err = httpDeliveryError(429, "HTTP 429", ["3"]);
    expect(err).toMatchObject({ kind: "retryable", status: 429, retryAfterMs: 3000, message: "HTTP 429" });
    expect(httpDeliveryError(410, "gone").kind).toBe("gone");
    expect(httpDeliveryError(400, "bad").retryAfterMs).toBeUndefined();
  });

  it.each([
    [201, "delivered"], [429, "retry"], [503, "retry"], [500, "retry"], [403, "retry"], [404, "retry"], [400, "rejected"], [422, "rejected"],
  ] as const)("a per-event status %i is %s", (status, verdict) => expect(itemOutcomeOfStatus(status, "why").status).toBe(verdict));
});
