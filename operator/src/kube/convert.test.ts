import { describe, expect, it } from "vitest";
import { KubeApiError } from "./errors.ts";
import { epochMs, microTime, plainMeta, toKubeApiError } from "./convert.ts";

describe("microTime", () => {
  it("writes the six fractional digits the API server's MicroTime parser requires", () => {
    expect(microTime(Date.parse("2025-06-01T12:00:00.123Z"))).toBe("2025-06-01T12:00:00.123000Z");
    expect(epochMs("2025-06-01T12:00:00.123000Z")).toBe(Date.parse("2025-06-01T12:00:00.123Z"));
    expect(epochMs(new Date(5))).toBe(5);
    expect(epochMs(undefined)).toBeUndefined();
  });
});

describe("plainMeta", () => {
  it("turns the library's Date fields back into text and drops what the operator does not use", () => {
    const meta = plainMeta({ name: "a", namespace: "ns", generation: 2, deletionTimestamp: new Date(0), managedFields: [{}], labels: { x: "y" } });
    expect(meta).toEqual({ name: "a", namespace: "ns", generation: 2, deletionTimestamp: "1970-01-01T00:00:00.000Z", labels: { x: "y" }, uid: undefined, resourceVersion: undefined, annotations: undefined });
  });
});

describe("toKubeApiError", () => {
  it("reads status, message and reason from the Status body", () => {
    const err = toKubeApiError({ code: 409, body: JSON.stringify({ kind: "Status", message: "the object has been modified", reason: "Conflict" }) });
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).toMatchObject({ status: 409, message: "the object has been modified", reason: "Conflict" });
  });

  it("keeps the first line of a body that is not a Status", () => {
    expect(toKubeApiError({ code: 429, body: "The apiserver is shutting down, please try again later.\n" })).toMatchObject({
      status: 429,
      message: "HTTP 429: The apiserver is shutting down, please try again later.",
    });
  });

  it("passes other errors through", () => {
    const err = new TypeError("fetch failed");
    expect(toKubeApiError(err)).toBe(err);
  });
});
