import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
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
  /** Requests then never answer, like an API server behind a dead connection. */
  hung = false;

  async get() {
    if (this.hung) return new Promise<never>(() => {});
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

const leaseDurationMs = 600;
const renewDeadlineMs = 400;
const retryPeriodMs = 50;
/** The longest pause between a candidate's attempts: the retry period with client-go's jitter factor 1.2. */
const longestRetryMs = Math.round(retryPeriodMs * 2.2);

function candidate(store: LeaseStore, identity: string) {
  // Fake timers drive both the elector's sleeps and this clock, so no assertion depends on real time.
  const elector = new LeaderElector({ store, identity, leaseDurationMs, renewDeadlineMs, retryPeriodMs, logger: silentLogger, now: () => Date.now() });
  const log: string[] = [];
  let termSignal: AbortSignal | undefined;
  elector.onStartedLeading((signal) => {
    termSignal = signal;
    log.push("started");
  });
  elector.onStoppedLeading(() => void log.push("stopped"));
  return { elector, log, term: () => termSignal };
}

/** Moves the fake clock on, running every timer and promise that falls due on the way. */
const elapse = (ms: number) => vi.advanceTimersByTimeAsync(ms);

/** A candidate that has just taken an empty Lease (its first round needs no timer). */
async function leader(store: LeaseStore, identity: string) {
  const c = candidate(store, identity);
  c.elector.start();
  await elapse(0);
  expect(c.elector.isLeader).toBe(true);
  return c;
}

describe("LeaderElector", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("elects exactly one of two candidates and hands over on a clean stop without waiting for expiry", async () => {
    const store = new MemoryLease();
    const a = await leader(store, "a");
    const b = candidate(store, "b");
    b.elector.start();
    await elapse(200);
    expect(b.elector.isLeader).toBe(false);
    expect(store.record?.holderIdentity).toBe("a");

    await a.elector.stop();
    expect(a.log).toEqual(["started", "stopped"]);
    expect(a.term()?.aborted).toBe(true);
    // Well within the lease duration: b does not wait for a's lease to expire, because a released it.
    await elapse(longestRetryMs);
    expect(b.elector.isLeader).toBe(true);
    expect(store.record).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });
    await b.elector.stop();
  });

  it("lets a standby take over a crashed leader's lease after it expires", async () => {
    const store = new MemoryLease();
    store.record = { holderIdentity: "crashed", leaseDurationSeconds: 1, renewTime: Date.now(), leaseTransitions: 0 };
    store.record.resourceVersion = String(++store.version);
    const b = candidate(store, "b");
    b.elector.start();
    await elapse(999);
    expect(b.elector.isLeader).toBe(false);
    await elapse(1 + longestRetryMs);
    expect(b.elector.isLeader).toBe(true);
    expect(store.record).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });
    await b.elector.stop();
  });

  it("steps down when it cannot renew within the renew deadline", async () => {
    const store = new MemoryLease();
    const a = await leader(store, "a");
    store.down = true;
    // The last renewal was at most one retry period ago, so the deadline cannot have passed before this.
    await elapse(renewDeadlineMs - retryPeriodMs - 1);
    expect(a.elector.isLeader).toBe(true);
    // …and it has passed by the first failed round after it: still before the lease could expire for the others.
    await elapse(2 * retryPeriodMs + 1);
    expect(a.elector.isLeader).toBe(false);
    expect(a.log).toEqual(["started", "stopped"]);
    store.down = false;
    await elapse(longestRetryMs);
    expect(a.elector.isLeader).toBe(true);
    await a.elector.stop();
  });

  it("steps down when a lease request hangs past the renew deadline", async () => {
    const store = new MemoryLease();
    const a = await leader(store, "a");
    store.hung = true;
    await elapse(retryPeriodMs + renewDeadlineMs - 1);
    expect(a.elector.isLeader).toBe(true);
    await elapse(1);
    expect(a.elector.isLeader).toBe(false);
    // stop() waits for the round in flight, which the same deadline ends.
    const stopped = a.elector.stop();
    await elapse(renewDeadlineMs);
    await stopped;
  });

  it("steps down at once when another holder has taken the lease", async () => {
    const store = new MemoryLease();
    const a = await leader(store, "a");
    store.record = { ...store.record!, holderIdentity: "usurper", resourceVersion: String(++store.version) };
    await elapse(retryPeriodMs);
    expect(a.elector.isLeader).toBe(false);
    await a.elector.stop();
    expect(store.record?.holderIdentity).toBe("usurper"); // not released: it was not ours
  });

  it("rejects timings where a leader could outlive its lease", () => {
    expect(() => new LeaderElector({ store: new MemoryLease(), identity: "a", leaseDurationMs: 10, renewDeadlineMs: 10, retryPeriodMs: 2, logger: silentLogger })).toThrow();
  });
});
