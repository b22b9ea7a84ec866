import { describe, expect, it } from "vitest";
import { tenantForNamespace, tenantLabel } from "./tenancy.ts";

describe("tenantForNamespace", () => {
  it("uses the tenant label when present", () => {
    expect(tenantForNamespace({ metadata: { name: "team-a", labels: { [tenantLabel]: "acme" } } })).toEqual({ ok: true, tenant: "acme", source: "label" });
  });

  it("falls back to the namespace name", () => {
    expect(tenantForNamespace({ metadata: { name: "team-a", labels: { other: "x" } } })).toEqual({ ok: true, tenant: "team-a", source: "namespaceName" });
    expect(tenantForNamespace({ metadata: { name: "team-b" } })).toMatchObject({ ok: true, tenant: "team-b" });
  });

  it.each(["", "Acme", "acme_corp", "-acme", "acme-", "a".repeat(64), "acme.corp"])("rejects the invalid label value %j instead of falling back", (value) => {
    expect(tenantForNamespace({ metadata: { name: "team-a", labels: { [tenantLabel]: value } } })).toMatchObject({ ok: false, reason: "InvalidTenantLabel" });
  });

  it("accepts a 63-character label", () => {
    expect(tenantForNamespace({ metadata: { name: "x", labels: { [tenantLabel]: "a".repeat(63) } } })).toMatchObject({ ok: true });
  });

  it("rejects a namespace without a usable name", () => {
    expect(tenantForNamespace({ metadata: {} })).toMatchObject({ ok: false, reason: "InvalidNamespace" });
    expect(tenantForNamespace({})).toMatchObject({ ok: false, reason: "InvalidNamespace" });
  });
});
