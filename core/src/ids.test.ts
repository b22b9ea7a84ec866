import { describe, expect, it } from "vitest";
import { uuidv7 } from "./ids.ts";

describe("uuidv7", () => {
  it("has the RFC 9562 layout: 48-bit milliseconds, version 7, variant 10", () => {
    const now = Date.UTC(2026, 10, 25, 12, 0, 0, 123);
    const id = uuidv7(now);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, "").slice(0, 12), 16)).toBe(now);
  });

  it("never repeats random bits across refills of its random pool", () => {
    const ids = Array.from({ length: 5000 }, () => uuidv7(1_700_000_000_000));
    expect(new Set(ids).size).toBe(ids.length);
    // Same millisecond: only the random part differs, and it must not come out as a repeating pattern.
    expect(new Set(ids.map((id) => id.slice(24))).size).toBe(ids.length);
  });
});
