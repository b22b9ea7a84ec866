import { describe, expect, it } from "vitest";
import { TenantRateLimiter } from "./tenant-rate-limiter.ts";

describe("TenantRateLimiter", () => {
  it("allows a burst, then one token per 60/perMinute seconds, per tenant", () => {
    let now = 0;
    const limiter = new TenantRateLimiter({ perMinute: 10, burst: 3, now: () => now });
    expect([limiter.take("a"), limiter.take("a"), limiter.take("a")]).toEqual([0, 0, 0]);
    expect(limiter.take("a")).toBe(6);
    expect(limiter.take("b")).toBe(0);
    now += 5_999;
    expect(limiter.take("a")).toBe(1);
    now += 1;
    expect(limiter.take("a")).toBe(0);
    expect(limiter.take("a")).toBe(6);
  });
});
