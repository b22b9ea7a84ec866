import type { LeaseRecord } from "../kube/types.ts";

export interface LeaseObservation {
  /** The Lease as last read; undefined when it does not exist. */
  current: LeaseRecord | undefined;
  /**
   * Local time at which this candidate first saw the current holder/renewTime. Expiry is judged from it and not
   * from `renewTime`, so clock skew between replicas cannot make a live leader look expired (client-go does this).
   */
  observedAt: number;
}

export type LeaseDecision =
  | { action: "create"; record: LeaseRecord }
  | { action: "update"; record: LeaseRecord; acquiring: boolean }
  | { action: "wait"; holder: string; expiresAt: number };

/** What a candidate should do with the Lease: take or renew it, or wait while another holder's lease runs. */
export function decideLease(observation: LeaseObservation, identity: string, leaseDurationSeconds: number, now: number): LeaseDecision {
  const { current, observedAt } = observation;
  if (current === undefined) {
    return { action: "create", record: { holderIdentity: identity, leaseDurationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 } };
  }
  const holder = current.holderIdentity ?? "";
  if (holder !== "" && holder !== identity) {
    const expiresAt = observedAt + (current.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    if (now < expiresAt) return { action: "wait", holder, expiresAt };
  }
  const acquiring = holder !== identity;
  return {
    action: "update",
    acquiring,
    record: {
      holderIdentity: identity,
      leaseDurationSeconds,
      acquireTime: acquiring ? now : (current.acquireTime ?? now),
      renewTime: now,
      leaseTransitions: (current.leaseTransitions ?? 0) + (acquiring ? 1 : 0),
      resourceVersion: current.resourceVersion,
    },
  };
}

/** The record a leader writes on a clean shutdown: no holder and a 1 s duration, so a standby takes over at once. */
export function releasedLease(current: LeaseRecord, now: number): LeaseRecord {
  return {
    holderIdentity: "",
    leaseDurationSeconds: 1,
    acquireTime: now,
    renewTime: now,
    leaseTransitions: current.leaseTransitions,
    resourceVersion: current.resourceVersion,
  };
}

/** Whether two reads show the same holder state; a change restarts the expiry clock. */
export function sameLeaseState(a: LeaseRecord | undefined, b: LeaseRecord | undefined): boolean {
  return a?.holderIdentity === b?.holderIdentity && a?.renewTime === b?.renewTime && a?.resourceVersion === b?.resourceVersion;
}
