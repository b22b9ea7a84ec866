import { describe, expect, it } from "vitest";
import { filtersToParams, queryFromSearchParams, queryToSearch, toApiFilters, type AuditQuery } from "./query-state.ts";

const now = Date.parse("2026-12-07T12:00:00Z");

describe("the URL is the query", () => {
  it("round-trips through the URL", () => {
    const q: AuditQuery = { text: 'actor:"Ada L" outcome:failure', categories: ["auth", "secrets"], range: "custom", from: "2026-11-01T00:00:00.000Z", to: "2026-11-02T00:00:00.000Z" };
    expect(queryFromSearchParams(new URLSearchParams(queryToSearch(q)))).toEqual(q);
    expect(queryToSearch({ text: " ", categories: [], range: "all" })).toBe("");
  });

  it("ignores an unknown range and custom bounds without range=custom", () => {
    expect(queryFromSearchParams(new URLSearchParams("range=2y&from=2026-01-01"))).toEqual({ text: "", categories: [], range: "all" });
  });
});

describe("toApiFilters", () => {
  it("applies presets relative to now and intersects them with after:/before:", () => {
    expect(toApiFilters({ text: "", categories: [], range: "24h" }, now).filters).toEqual({ from: "2026-12-06T12:00:00.000Z" });
    const both = toApiFilters({ text: "after:2026-12-07T06:00:00Z before:2026-12-07T10:00:00Z", categories: [], range: "24h" }, now).filters;
    expect(both).toEqual({ from: "2026-12-07T06:00:00.000Z", to: "2026-12-07T10:00:00.000Z" });
    const custom = toApiFilters({ text: "", categories: [], range: "custom", from: "2026-11-01T00:00:00.000Z", to: "2026-11-03T00:00:00.000Z" }, now).filters;
    expect(custom).toEqual({ from: "2026-11-01T00:00:00.000Z", to: "2026-11-03T00:00:00.000Z" });
  });

  it("uses the action-type filter, intersected with typed category: values", () => {
    expect(toApiFilters({ text: "", categories: ["auth", "audit"], range: "all" }, now).filters).toEqual({ category: "auth,audit" });
    expect(toApiFilters({ text: "category:auth,secrets", categories: ["secrets"], range: "all" }, now).problems.length).toBe(1);
    expect(toApiFilters({ text: "category:auth category:secrets", categories: ["secrets", "users"], range: "all" }, now).filters).toEqual({ category: "secrets" });
    expect(toApiFilters({ text: "category:auth", categories: ["secrets"], range: "all" }, now).problems[0]!.message).toContain("no category in common");
  });

  it("writes filters as API parameters in a fixed order", () => {
    expect(filtersToParams({ q: "x y", action: "auth.*", resourceType: "db" }).toString()).toBe("action=auth.*&resourceType=db&q=x+y");
  });
});
