import { describe, expect, it } from "vitest";
import { parseSearch, tokenize, toInstant } from "./grammar.ts";

describe("parseSearch", () => {
  it("maps every qualifier to its API filter", () => {
    const { filters, problems } = parseSearch("action:auth.* category:secrets actor:u-42 resource:db-1 type:database outcome:failure ip:10.0.0.0/8");
    expect(problems).toEqual([]);
    expect(filters).toEqual({ action: "auth.*", category: "secrets", actor: "u-42", resource: "db-1", resourceType: "database", outcome: "failure", ip: "10.0.0.0/8" });
  });

  it("turns after:/before: into from/to instants (a date is midnight in the viewer's zone)", () => {
    const { filters, problems } = parseSearch("after:2026-11-01 before:2026-12-01T00:00:00Z");
    expect(problems).toEqual([]);
    expect(filters.from).toBe(new Date(2026, 10, 1).toISOString());
    expect(filters.to).toBe("2026-12-01T00:00:00.000Z");
  });

  it("joins repeated list qualifiers with commas (OR) and keeps free text, quoted or not, as q", () => {
    const { filters } = parseSearch('action:auth.login ACTION:secret.reveal outcome:success outcome:failure deploy "prod eu" INC-1');
    expect(filters).toEqual({ action: "auth.login,secret.reveal", outcome: "success,failure", q: "deploy prod eu INC-1" });
  });

  it("takes quoted values with spaces and escaped quotes", () => {
    expect(parseSearch('actor:"Ada Lovelace" resource:"say \\"hi\\""').filters).toEqual({ actor: "Ada Lovelace", resource: 'say "hi"' });
  });

  it("reports, never drops, what the API cannot serve", () => {
    const { filters, problems } = parseSearch("user:bob -actor:u-1 outcome:maybe category:nope action:AUTH-? ip:not-an-ip after:yesterday type: actor:a actor:b http://x");
    expect(problems.map((p) => p.token)).toEqual(["user:bob", "-actor:u-1", "outcome:maybe", "category:nope", "action:AUTH-?", "ip:not-an-ip", "after:yesterday", "type:", "actor:b", "http://x"]);
    expect(problems[0]!.message).toContain('unknown qualifier "user:"');
    expect(problems[1]!.message).toContain("not supported");
    expect(problems[8]!.message).toContain("only once");
    expect(filters).toEqual({ actor: "a" });
  });

  it("rejects an after: that is not before the before:", () => {
    expect(parseSearch("after:2026-12-01 before:2026-11-01").problems).toEqual([{ token: "after:/before:", message: "after: must be earlier than before:" }]);
  });

  it("accepts IPv6 addresses and blocks, and an empty search", () => {
    expect(parseSearch("ip:2001:db8::/32").filters).toEqual({ ip: "2001:db8::/32" });
    expect(parseSearch("   ")).toEqual({ filters: {}, problems: [] });
  });
});

describe("tokenize and toInstant", () => {
  it("keeps an unterminated quote's rest as the value", () => {
    expect(tokenize('actor:"Ada L').map((t) => [t.name, t.value])).toEqual([["actor", "Ada L"]]);
  });
  it("rejects impossible dates", () => {
    expect(toInstant("2026-02-30")).toBeUndefined();
    expect(toInstant("2026-13-01")).toBeUndefined();
    expect(toInstant("2026-11-01T10:00:00+02:00")).toBe("2026-11-01T08:00:00.000Z");
  });
});
