import { describe, expect, it } from "vitest";
import { chooseServer } from "./read-replica.ts";

describe("chooseServer", () => {
  it("reads from a replica that answered within the lag bound, and from one not checked yet", () => {
    expect(chooseServer({ status: "reachable", lagMs: 0 }, 30_000)).toEqual({ server: "replica" });
    expect(chooseServer({ status: "reachable", lagMs: 30_000 }, 30_000)).toEqual({ server: "replica" });
    expect(chooseServer({ status: "unchecked" }, 30_000)).toEqual({ server: "replica" });
  });

  it("falls back to the primary when the replica lags beyond the bound or cannot be reached", () => {
    expect(chooseServer({ status: "reachable", lagMs: 30_001 }, 30_000)).toEqual({ server: "primary", reason: "lagging" });
    expect(chooseServer({ status: "reachable", lagMs: Infinity }, 30_000)).toEqual({ server: "primary", reason: "lagging" });
    expect(chooseServer({ status: "unreachable", error: "ECONNREFUSED" }, 30_000)).toEqual({ server: "primary", reason: "unreachable" });
  });
});
