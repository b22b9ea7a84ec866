import { describe, expect, it } from "vitest";
import { decideLease, releasedLease, sameLeaseState } from "./lease-decision.ts";

const t0 = 1_700_000_000_000;

describe("decideLease", () => {
  it("creates a missing Lease", () => {
    expect(decideLease({ current: undefined, observedAt: t0 }, "a", 15, t0)).toEqual({
      action: "create",
      record: { holderIdentity: "a", leaseDurationSeconds: 15, acquireTime: t0, renewTime: t0, leaseTransitions: 0 },
    });
  });

  it("waits while another holder's lease runs, judged from when this candidate saw it", () => {
    const current = { holderIdentity: "b", leaseDurationSeconds: 15, renewTime: t0 - 60_000, resourceVersion: "7" };
    // renewTime is a minute old by our clock, but we only saw it now: skew must not let us steal a live lease.
    expect(decideLease({ current, observedAt: t0 }, "a", 15, t0 + 14_999)).toEqual({ action: "wait", holder: "b", expiresAt: t0 + 15_000 });
  });

  it("takes over an expired lease, counting the transition and keeping the resourceVersion for the conflict check", () => {
    const current = { holderIdentity: "b", leaseDurationSeconds: 15, acquireTime: t0 - 99, renewTime: t0, leaseTransitions: 3, resourceVersion: "7" };
    const decision = decideLease({ current, observedAt: t0 }, "a", 10, t0 + 15_000);
    expect(decision).toEqual({
      action: "update",
      acquiring: true,
      record: { holderIdentity: "a", leaseDurationSeconds: 10, acquireTime: t0 + 15_000, renewTime: t0 + 15_000, leaseTransitions: 4, resourceVersion: "7" },
    });
  });

  it("takes a released lease at once", () => {
    const current = { holderIdentity: "", leaseDurationSeconds: 1, renewTime: t0, leaseTransitions: 1, resourceVersion: "8" };
    expect(decideLease({ current, observedAt: t0 }, "a", 15, t0)).toMatchObject({ action: "update", acquiring: true, record: { holderIdentity: "a", leaseTransitions: 2 } });
  });

  it("renews its own lease without a transition and keeps acquireTime", () => {
    const current = { holderIdentity: "a", leaseDurationSeconds: 15, acquireTime: t0, renewTime: t0 + 2000, leaseTransitions: 2, resourceVersion: "9" };
    expect(decideLease({ current, observedAt: t0 + 2000 }, "a", 15, t0 + 4000)).toMatchObject({
      action: "update",
      acquiring: false,
      record: { acquireTime: t0, renewTime: t0 + 4000, leaseTransitions: 2 },
    });
  });
});

describe("releasedLease", () => {
  it("clears the holder and shortens the duration", () => {
    expect(releasedLease({ holderIdentity: "a", leaseTransitions: 2, resourceVersion: "9" }, t0)).toEqual({
      holderIdentity: "",
      leaseDurationSeconds: 1,
      acquireTime: t0,
      renewTime: t0,
      leaseTransitions: 2,
      resourceVersion: "9",
    });
  });
});

describe("sameLeaseState", () => {
  it("sees a renewal as a change", () => {
    const a = { holderIdentity: "b", renewTime: t0, resourceVersion: "1" };
    expect(sameLeaseState(a, { ...a })).toBe(true);
    expect(sameLeaseState(a, { ...a, renewTime: t0 + 1, resourceVersion: "2" })).toBe(false);
    expect(sameLeaseState(undefined, undefined)).toBe(true);
  });
});
