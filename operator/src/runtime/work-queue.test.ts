import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { WorkQueue } from "./work-queue.ts";

const noJitter = { baseMs: 100, maxMs: 1000, jitter: 0 };

/** Every key the queue hands out within the current tick, each marked done. */
async function drain(q: WorkQueue): Promise<string[]> {
  const out: string[] = [];
  while (q.length > 0) {
    const key = (await q.get())!;
    out.push(key);
    q.done(key);
  }
  return out;
}

describe("WorkQueue", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("collapses duplicate keys and keeps first-in order", async () => {
    const q = new WorkQueue();
    for (const k of ["ns/a", "ns/b", "ns/a", "ns/c", "ns/b"]) q.add(k);
    expect(await drain(q)).toEqual(["ns/a", "ns/b", "ns/c"]);
  });

  it("hands a key to one worker at a time and runs it once more when added while in flight", async () => {
    const q = new WorkQueue();
    q.add("ns/a");
    const first = await q.get();
    q.add("ns/a");
    q.add("ns/a");
    expect(q.length).toBe(0); // not handed to a second worker while the first holds it
    q.done(first!);
    expect(await drain(q)).toEqual(["ns/a"]);
  });

  it("wakes a waiting worker when a key arrives", async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    q.add("ns/a");
    await expect(waiting).resolves.toBe("ns/a");
  });

  it("backs off per key exponentially and resets on forget", async () => {
    const q = new WorkQueue({ retry: noJitter });
    expect([q.addRateLimited("ns/a"), q.addRateLimited("ns/a"), q.addRateLimited("ns/a")]).toEqual([100, 200, 400]);
    expect(q.addRateLimited("ns/b")).toBe(100); // another key has its own count
    q.forget("ns/a");
    expect(q.failures("ns/a")).toBe(0);
    expect(q.addRateLimited("ns/a")).toBe(100);
  });

  it("delivers a delayed key only after its delay", async () => {
    const q = new WorkQueue();
    q.addAfter("ns/a", 5000);
    vi.advanceTimersByTime(4999);
    expect(q.length).toBe(0);
    vi.advanceTimersByTime(1);
    expect(await drain(q)).toEqual(["ns/a"]);
  });

  it("keeps the earlier of two delayed adds for one key", async () => {
    const q = new WorkQueue();
    q.addAfter("ns/a", 5000);
    q.addAfter("ns/a", 1000);
    q.addAfter("ns/a", 9000);
    expect(q.delayedCount).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(await drain(q)).toEqual(["ns/a"]);
    vi.advanceTimersByTime(10_000);
    expect(q.length).toBe(0);
  });

  it("drops a pending delayed add when the key is added now", async () => {
    const q = new WorkQueue();
    q.addAfter("ns/a", 1000);
    q.add("ns/a");
    expect(await drain(q)).toEqual(["ns/a"]);
    vi.advanceTimersByTime(2000);
    expect(q.length).toBe(0);
  });

  it("releases waiting workers and ignores adds after shutdown", async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    q.addAfter("ns/b", 100);
    q.shutDown();
    await expect(waiting).resolves.toBeUndefined();
    q.add("ns/a");
    vi.advanceTimersByTime(200);
    await expect(q.get()).resolves.toBeUndefined();
  });
});
