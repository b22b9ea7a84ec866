import type { NamedLease } from "../kube/types.ts";

/** A member Lease as this replica last saw it change: its holder, and the local time of that change. */
export interface MemberSighting {
  identity: string;
  /** holder/renewTime/resourceVersion as read; a new value restarts the expiry clock. */
  state: string;
  seenAt: number;
  durationMs: number;
  resourceVersion: string | undefined;
}

export interface MembershipView {
  /** Sightings by Lease name, to carry into the next round. */
  sightings: Map<string, MemberSighting>;
  /** Identities of the other live members. */
  live: string[];
  /** Leases whose holder stopped renewing: deleted (guarded by their resourceVersion) so the set does not grow. */
  expired: { name: string; resourceVersion: string | undefined }[];
}

/**
 * Which member Leases are live. Expiry is judged from the local time a Lease was last seen to change, not from its
 * renewTime, so clock skew between nodes cannot make a live replica look dead (client-go's leader election does the
 * same); a Lease seen for the first time is live for one duration.
 */
export function viewMembers(leases: readonly NamedLease[], previous: ReadonlyMap<string, MemberSighting>, self: string, defaultDurationMs: number, now: number): MembershipView {
  const sightings = new Map<string, MemberSighting>();
  const live: string[] = [];
  const expired: MembershipView["expired"] = [];
  for (const lease of leases) {
    const identity = lease.holderIdentity ?? "";
    if (identity === "" || lease.name === self) continue;
    const state = `${identity}|${lease.renewTime ?? ""}|${lease.resourceVersion ?? ""}`;
    const before = previous.get(lease.name);
    const durationMs = (lease.leaseDurationSeconds ?? defaultDurationMs / 1000) * 1000;
    const seenAt = before?.state === state ? before.seenAt : now;
    sightings.set(lease.name, { identity, state, seenAt, durationMs, resourceVersion: lease.resourceVersion });
    if (now - seenAt < durationMs) live.push(identity);
    else expired.push({ name: lease.name, resourceVersion: lease.resourceVersion });
  }
  return { sightings, live, expired };
}

/** A Lease name for a member: the set's name and the pod name, reduced to what a DNS-1123 subdomain allows. */
export function memberLeaseName(setName: string, identity: string): string {
  const cleaned = identity.toLowerCase().replace(/[^a-z0-9.-]+/g, "-").replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, "");
  return `${setName}-member-${cleaned || "replica"}`.slice(0, 253).replace(/[^a-z0-9]+$/, "");
}
