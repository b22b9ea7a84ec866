import { describe, expect, it, vi } from "vitest";
import { silentLogger } from "@trailkeeper/core/log.ts";
import { KubeApiError } from "../kube/errors.ts";
import type { LeaseRecord, LeaseStore } from "../kube/types.ts";
import { LeaderElector } from "./leader-election.ts";

/** One Lease in memory with the API server's optimistic concurrency; `down` makes every call fail. */
class MemoryLease implements LeaseStore {
  readonly namespace = "ns";
  readonly name = "lease";
  record: LeaseRecord | undefined;
  version = 0;
  down = false;

  async get() {
    if (this.down) throw new Error("connection refused");
    return this.record === undefined ? undefined : { ...this.record };
  }
  async create(record: LeaseRecord) {
    if (this.down) throw new Error("connection refused");
    if (this.record !== undefined) throw new KubeApiError(409, "exists");
    this.record = { ...record, resourceVersion: String(++this.version) };
    return { ...this.record };
  }
  async update(record: LeaseRecord) {
    if (this.down) throw new Error("connection refused");
    if (record.resourceVersion !== this.record?.resourceVersion) throw new KubeApiError(409, "conflict");
    this.record = { ...record, resourceVersion: String(++this.version) };
    return { ...this.record };
  }
}

function candidate(store: LeaseStore, identity: string) {
  const elector = new LeaderElector({ store, identity, leaseDurationMs: 600, renewDeadlineMs: 400, retryPeriodMs: 50, logger: silentLogger });
  const log: string[] = [];
  let termSignal: AbortSignal | undefined;
  elector.onStartedLeading((signal) => {
    termSignal = signal;
    log.push("started");
  });
  elector.onStoppedLeading(() => void log.push("stopped"));
  return { elector, log, term: () => termSignal };
}

describe("LeaderElector", () => {
  it("elects exactly one of two candidates and hands over on a clean stop without waiting for expiry", async () => {
    const store = new MemoryLease();
    const a = candidate(store, "a");
    const b = candidate(store, "b");
    a.elector.start();
    await vi.waitFor(() => expect(a.elector.isLeader).toBe(true));
    b.elector.start();
    await new Promise((r) => setTimeout(r, 200));
    expect(b.elector.isLeader).toBe(false);
    expect(store.record?.holderIdentity).toBe("a");

    const stoppedAt = Date.now();
    await a.elector.stop();
    expect(a.log).toEqual(["started", "stopped"]);
    expect(a.term()?.aborted).toBe(true);
    await vi.waitFor(() => expect(b.elector.isLeader).toBe(true));
    expect(Date.now() - stoppedAt).toBeLessThan(600); // faster than the lease duration: the lease was released
    expect(store.record).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });
    await b.elector.stop();
  });

  it("lets a standby take over a crashed leader's lease after it expires", async () => {
    const store = new MemoryLease();
    store.record = { holderIdentity: "crashed", leaseDurationSeconds: 1, renewTime: Date.now(), leaseTransitions: 0 };
    store.record.resourceVersion = String(++store.version);
    const b = candidate(store, "b");
    const started = Date.now();
    b.elector.start();
    await new Promise((r) => setTimeout(r, 500));
    expect(b.elector.isLeader).toBe(false);
    await vi.waitFor(() => expect(b.elector.isLeader).toBe(true), { timeout: 3000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    await b.elector.stop();
  });

  it("steps down when it cannot renew within the renew deadline", async () => {
    const store = new MemoryLease();
    const a = candidate(store, "a");
    a.elector.start();
    await vi.waitFor(() => expect(a.elector.isLeader).toBe(true));
    store.down = true;
    const downAt = Date.now();
    await vi.waitFor(() => expect(a.elector.isLeader).toBe(false), { timeout: 2000 });
    expect(Date.now() - downAt).toBeLessThan(600); // before the lease could expire for the others
    expect(a.log).toEqual(["started", "stopped"]);
    store.down = false;
    await vi.waitFor(() => expect(a.elector.isLeader).toBe(true), { timeout: 2000 });
    await a.elector.stop();
  });

  it("steps down at once when another holder has taken the lease", async () => {
    const store = new MemoryLease();
    const a = candidate(store, "a");
    a.elector.start();
    await vi.waitFor(() => expect(a.elector.isLeader).toBe(true));
    store.record = { ...store.record!, holderIdentity: "usurper", resourceVersion: String(++store.version) };
    await vi.waitFor(() => expect(a.elector.isLeader).toBe(false), { timeout: 1000 });
    await a.elector.stop();
    expect(store.record?.holderIdentity).toBe("usurper"); // not released: it was not ours
  });

  it("rejects timings where a leader could outlive its lease", () => {
    expect(() => new LeaderElector({ store: new MemoryLease(), identity: "a", leaseDurationMs: 10, renewDeadlineMs: 10, retryPeriodMs: 2, logger: silentLogger })).toThrow();
  });
});
