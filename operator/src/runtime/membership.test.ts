import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { silentLogger } from "@trailkeeper/core/log.ts";
import { KubeApiError } from "../kube/errors.ts";
import type { LeaseRecord, LeaseSet, LeaseStore, NamedLease } from "../kube/types.ts";
import { Membership } from "./membership.ts";
import { memberLeaseName } from "./membership-view.ts";

/** Labelled Leases in memory with the API server's optimistic concurrency; `down` makes every call fail. */
class MemoryLeaseSet implements LeaseSet {
  readonly namespace = "ns";
  readonly selector = "trailkeeper.dev/members-of=op";
  readonly leases = new Map<string, LeaseRecord>();
  version = 0;
  down = false;

  #check() {
    if (this.down) throw new Error("connection refused");
  }
  async list(): Promise<NamedLease[]> {
    this.#check();
    return [...this.leases].map(([name, r]) => ({ name, ...r }));
  }
  lease(name: string): LeaseStore {
    const put = (record: LeaseRecord) => {
      this.leases.set(name, { ...record, resourceVersion: String(++this.version) });
      return { ...this.leases.get(name)! };
    };
    return {
      namespace: this.namespace,
      name,
      get: async () => (this.#check(), this.leases.get(name) && { ...this.leases.get(name)! }),
      create: async (record) => {
        this.#check();
        if (this.leases.has(name)) throw new KubeApiError(409, "exists");
        return put(record);
      },
      update: async (record) => {
        this.#check();
        if (record.resourceVersion !== this.leases.get(name)?.resourceVersion) throw new KubeApiError(409, "conflict");
        return put(record);
      },
    };
  }
  async delete(name: string, resourceVersion?: string) {
    this.#check();
    const current = this.leases.get(name);
    if (current && resourceVersion !== undefined && current.resourceVersion !== resourceVersion) throw new KubeApiError(409, "conflict");
    this.leases.delete(name);
  }
}

const leaseDurationMs = 1000;
const renewDeadlineMs = 600;
const retryPeriodMs = 100;
const elapse = (ms: number) => vi.advanceTimersByTimeAsync(ms);

function member(leases: LeaseSet, identity: string) {
  const m = new Membership({ leases, setName: "op", identity, leaseDurationMs, renewDeadlineMs, retryPeriodMs, logger: silentLogger, now: () => Date.now() });
  const seen: (readonly string[])[] = [];
  m.onChange((members) => seen.push(members));
  m.start();
  return { m, seen };
}

describe("Membership", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("lists every replica that renews its Lease, and drops one that stops cleanly at the next round", async () => {
    const leases = new MemoryLeaseSet();
    const a = member(leases, "op-a");
    const b = member(leases, "op-b");
    await elapse(retryPeriodMs);
    expect(a.m.members).toEqual(["op-a", "op-b"]);
    expect(b.m.members).toEqual(["op-a", "op-b"]);
    expect(leases.leases.get(memberLeaseName("op", "op-a"))).toMatchObject({ holderIdentity: "op-a", leaseDurationSeconds: 1 });

    await b.m.stop();
    expect(b.seen.at(-1)).toEqual([]);
    expect(leases.leases.has(memberLeaseName("op", "op-b"))).toBe(false);
    await elapse(retryPeriodMs);
    expect(a.m.members).toEqual(["op-a"]);
    await a.m.stop();
  });

  it("drops a replica that stopped renewing once its lease duration has passed since the last change seen, and deletes its Lease", async () => {
    const leases = new MemoryLeaseSet();
    // Killed: a Lease nobody renews, whose renewTime is far in the future (clock skew must not keep it alive).
    leases.leases.set("op-member-op-dead", { holderIdentity: "op-dead", leaseDurationSeconds: 1, renewTime: Date.now() + 3_600_000, resourceVersion: String(++leases.version) });
    const a = member(leases, "op-a");
    await elapse(0);
    expect(a.m.members).toEqual(["op-a", "op-dead"]);
    await elapse(leaseDurationMs - retryPeriodMs);
    expect(a.m.members).toEqual(["op-a", "op-dead"]);
    await elapse(2 * retryPeriodMs);
    expect(a.m.members).toEqual(["op-a"]);
    expect(leases.leases.has("op-member-op-dead")).toBe(false);
    await a.m.stop();
  });

  it("leaves (no members) while it cannot renew its own Lease within the renew deadline, and rejoins after", async () => {
    const leases = new MemoryLeaseSet();
    const a = member(leases, "op-a");
    await elapse(0);
    expect(a.m.members).toEqual(["op-a"]);
    leases.down = true;
    await elapse(renewDeadlineMs - retryPeriodMs);
    expect(a.m.members).toEqual(["op-a"]);
    await elapse(2 * retryPeriodMs);
    expect(a.m.members).toEqual([]);
    leases.down = false;
    await elapse(retryPeriodMs);
    expect(a.m.members).toEqual(["op-a"]);
    await a.m.stop();
  });

  it("names member Leases as DNS-1123 subdomains", () => {
    expect(memberLeaseName("trailkeeper-operator", "trailkeeper-operator-7d9f-x2k")).toBe("trailkeeper-operator-member-trailkeeper-operator-7d9f-x2k");
    expect(memberLeaseName("op", "Host_Name.local")).toBe("op-member-host-name.local");
  });
});
