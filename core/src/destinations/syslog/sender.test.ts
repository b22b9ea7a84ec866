import { describe, expect, it } from "vitest";
import { DeliveryError } from "../../forwarding/classify.ts";
import { outcomeOfRelpBatch } from "./sender.ts";

describe("RELP batch outcome", () => {
  const failure = new DeliveryError("retryable", "syslog receiver h:2514: the receiver closed the connection");

  it("delivers the whole batch only when every message was acknowledged", () => {
    expect(outcomeOfRelpBatch(3, { acknowledged: 3 }).items.map((i) => i.status)).toEqual(["delivered", "delivered", "delivered"]);
  });

  it("delivers the acknowledged prefix and retries the rest with the failure as reason", () => {
    expect(outcomeOfRelpBatch(4, { acknowledged: 2, failure }).items).toEqual([
      { status: "delivered" },
      { status: "delivered" },
      { status: "retry", reason: failure.message },
      { status: "retry", reason: failure.message },
    ]);
  });

  it("throws the failure when nothing was acknowledged, so the whole batch is retried with backoff", () => {
    expect(() => outcomeOfRelpBatch(2, { acknowledged: 0, failure })).toThrow(failure);
  });

  it("never counts an unacknowledged message as delivered, even without a reported failure", () => {
    expect(outcomeOfRelpBatch(3, { acknowledged: 1 }).items.map((i) => i.status)).toEqual(["delivered", "retry", "retry"]);
    expect(() => outcomeOfRelpBatch(3, { acknowledged: 0 })).toThrow(/acknowledged 0 of 3 messages/);
  });
});
