import { describe, expect, it } from "vitest";
import { Backoff, backoffDelay, sleep, withJitter } from "./backoff.ts";

const policy = { baseMs: 100, maxMs: 1000, jitter: 0.5 };

describe("backoffDelay", () => {
  it("doubles from the base per attempt and stops at the cap", () => {
    const delays = [1, 2, 3, 4, 5, 6].map((n) => backoffDelay(policy, n, () => 0));
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it("adds at most the jitter fraction", () => {
    expect(backoffDelay(policy, 1, () => 0.999)).toBe(150);
    expect(backoffDelay(policy, 10, () => 0.5)).toBe(1250);
  });

  it("does not overflow on huge attempt counts", () => {
    expect(backoffDelay(policy, 10_000, () => 0)).toBe(1000);
  });
});

describe("Backoff", () => {
  it("grows with each failure and starts over after reset", () => {
    const b = new Backoff({ ...policy, jitter: 0 });
    expect([b.next(), b.next(), b.next()]).toEqual([100, 200, 400]);
    b.reset();
    expect(b.next()).toBe(100);
    expect(b.attempts).toBe(1);
  });
});

describe("withJitter", () => {
  it("stretches by up to the fraction, never shortens", () => {
    expect(withJitter(1000, 0.1, () => 0)).toBe(1000);
    expect(withJitter(1000, 0.1, () => 0.5)).toBe(1050);
  });
});

describe("sleep", () => {
  it("ends early when aborted", async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pending = sleep(10_000, controller.signal);
    controller.abort();
    await pending;
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
