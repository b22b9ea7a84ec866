import { describe, expect, it } from "vitest";
import { roundPlan } from "./search-indexer.ts";

describe("search indexer round plan", () => {
  const base = { maxDeferred: 50_000, maxDeferredMs: 30_000, appendingForMs: 0, batch: 5_000, deferredBatch: 1_000 };
  it("yields to appends with a small batch and a pause while fewer than maxDeferred events wait", () => {
    expect(roundPlan({ ...base, appending: true, behind: 49_999 })).toEqual({ batch: 1_000, pauseAfter: true });
    expect(roundPlan({ ...base, appending: true, behind: undefined })).toEqual({ batch: 1_000, pauseAfter: true });
  });
  it("indexes full batches back to back once the backlog reaches maxDeferred, when appends stop, or when deferring is off", () => {
    expect(roundPlan({ ...base, appending: true, behind: 50_000 })).toEqual({ batch: 5_000, pauseAfter: false });
    expect(roundPlan({ ...base, appending: false, behind: 10 })).toEqual({ batch: 5_000, pauseAfter: false });
    expect(roundPlan({ ...base, maxDeferred: 0, appending: true, behind: 10 })).toEqual({ batch: 5_000, pauseAfter: false });
  });
  it("stops yielding once appends have gone on for maxDeferredMs: a sustained load, not a burst", () => {
    expect(roundPlan({ ...base, appending: true, appendingForMs: 29_999, behind: 10 })).toEqual({ batch: 1_000, pauseAfter: true });
    expect(roundPlan({ ...base, appending: true, appendingForMs: 30_000, behind: 10 })).toEqual({ batch: 5_000, pauseAfter: false });
  });
  it("never defers more than a full batch would write", () => {
    expect(roundPlan({ ...base, batch: 200, appending: true, behind: 0 })).toEqual({ batch: 200, pauseAfter: true });
  });
});
