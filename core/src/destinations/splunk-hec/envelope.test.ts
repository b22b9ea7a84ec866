import { describe, expect, it } from "vitest";
import { sampleEvent } from "../testdata/sample-event.ts";
import { hecBatchBody, hecEnvelope, hecTime } from "./envelope.ts";
import { hecDeliveryError, invalidEventIndex, partialBatchOutcome } from "./hec-delivery.ts";

describe("HEC envelope", () => {
  it("carries the stored event, its time in epoch seconds with milliseconds, and only the metadata that is set", () => {
    const text = hecEnvelope(sampleEvent, { sourcetype: "trailkeeper:audit", index: "audit" });
    expect(text.startsWith('{"time":1735732800.123,"sourcetype":"trailkeeper:audit","index":"audit","event":{')).toBe(true);
    expect(JSON.parse(text)).toEqual({ time: 1735732800.123, sourcetype: "trailkeeper:audit", index: "audit", event: sampleEvent });
    expect(JSON.parse(hecEnvelope(sampleEvent, { sourcetype: "s", host: "h", source: "src" }))).toMatchObject({ host: "h", source: "src" });
  });

  it("writes whole seconds without decimals and keeps millisecond precision", () => {
    expect(hecTime("2025-01-01T12:00:00.000Z")).toBe(1735732800);
    expect(hecTime("2025-01-01T12:00:00.999Z")).toBe(1735732800.999);
  });

  it("concatenates envelopes without an array or commas", () => {
    expect(hecBatchBody(['{"event":1}', '{"event":2}'])).toBe('{"event":1}\n{"event":2}');
  });
});

describe("HEC answers", () => {
  it("splits a batch at the invalid event: before delivered, it rejected, after resent", () => {
    expect(partialBatchOutcome(5, 2, { code: 6, text: "Invalid data format" }).items.map((i) => i.status)).toEqual(["delivered", "delivered", "rejected", "retry", "retry"]);
    expect(partialBatchOutcome(3, 0, { code: 13, text: "Event field cannot be blank" }).items[0]).toEqual({ status: "rejected", reason: "Splunk HEC rejected the event: HEC code 13 (Event field cannot be blank)" });
  });

  it("does not dead-letter events for a configuration problem (incorrect index)", () => {
    expect(partialBatchOutcome(2, 0, { code: 7, text: "Incorrect index" }).items.map((i) => i.status)).toEqual(["retry", "retry"]);
  });

  it.each([
    [403, 1, "retryable", "the HEC token is disabled"],
    [403, 4, "retryable", "the HEC token is invalid"],
    [401, 2, "retryable", "no HEC token was sent"],
    [400, 10, "retryable", "request channel"],
    [400, 7, "retryable", "index is not allowed"],
    [503, 9, "retryable", "busy"],
    [503, 18, "retryable", "unhealthy"],
    [500, 8, "retryable", "unhealthy or busy"],
    [400, 5, "permanent", "HTTP 400"],
    [413, undefined, "tooLarge", "HTTP 413"],
  ] as const)("HTTP %i with code %s is %s", (status, code, kind, text) => {
    const err = hecDeliveryError(status, code === undefined ? undefined : { code }, `HTTP ${status} from https://splunk`);
    expect(err.kind).toBe(kind);
    expect(err.message).toContain(text);
  });

  it("keeps Retry-After from a busy HEC or load balancer", () => {
    expect(hecDeliveryError(503, { code: 9 }, "HTTP 503", "4").retryAfterMs).toBe(4000);
    expect(hecDeliveryError(429, undefined, "HTTP 429", "2")).toMatchObject({ kind: "retryable", retryAfterMs: 2000 });
  });

  it("finds the invalid event only in a 400 that names one inside the batch", () => {
    expect(invalidEventIndex(400, { code: 6, "invalid-event-number": 2 }, 5)).toBe(2);
    expect(invalidEventIndex(400, { code: 6, "invalid-event-number": 5 }, 5)).toBeUndefined();
    expect(invalidEventIndex(400, { code: 5 }, 5)).toBeUndefined();
    expect(invalidEventIndex(503, { code: 9, "invalid-event-number": 0 }, 5)).toBeUndefined();
  });
});
