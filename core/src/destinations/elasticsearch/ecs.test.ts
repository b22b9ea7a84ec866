import { describe, expect, it } from "vitest";
import { categoryIds } from "../../events/categories.ts";
import { sampleEvent, withChanges } from "../testdata/sample-event.ts";
import { bulkCreatePair, bulkItemOutcome, bulkOutcomes } from "./bulk.ts";
import { ecsCategoryOf, ecsDocument, ecsTypes } from "./ecs.ts";

const ecsCategories = ["api", "authentication", "configuration", "database", "driver", "file", "host", "iam", "intrusion_detection", "library", "malware", "network", "package", "process", "registry", "session", "threat", "vulnerability", "web"];

describe("ECS mapping", () => {
  it("maps every category to an allowed ECS event.category", () => {
    for (const id of categoryIds) expect(ecsCategories).toContain(ecsCategoryOf[id]);
  });

  it.each([
    ["auth", "auth.login", ["start"]],
    ["auth", "auth.logout", ["end"]],
    ["auth", "mfa.enroll", ["info"]],
    ["sessions", "session.start", ["start"]],
    ["resources", "resource.update", ["change"]],
    ["resources", "resource.delete", ["deletion"]],
    ["secrets", "secret.reveal", ["access"]],
    ["users", "user.create", ["user", "creation"]],
    ["users", "user.role.granted", ["user", "change"]],
    ["permissions", "group.member_added", ["group", "creation"]],
    ["permissions", "role.update", ["admin", "change"]],
    ["api_keys", "apikey.create", ["admin", "creation"]],
    ["network", "vpn.connect", ["start", "connection"]],
    ["network", "vpn.disconnect", ["end"]],
    ["settings", "settings.update", ["change"]],
    ["audit", "audit.export", ["access"]],
    ["billing", "plan.upgrade", ["info"]],
  ] as const)("%s %s has event.type %j", (category, action, types) => {
    expect(ecsTypes(category, action)).toEqual(types);
  });

  it("builds the document with ECS fields, the chain under trailkeeper and the stored event as event.original", () => {
    const doc = ecsDocument(sampleEvent);
    expect(doc).toMatchObject({
      "@timestamp": "2025-01-01T12:00:00.123Z",
      event: { kind: "event", category: ["authentication"], type: ["start"], action: "auth.login", outcome: "success", id: sampleEvent.id, sequence: 42, created: "2025-01-01T12:00:00.456Z" },
      user: { id: "user-7", name: "Alice" },
      source: { ip: "203.0.113.9" },
      user_agent: { original: "Mozilla/5.0" },
      http: { request: { id: "req-1" } },
      organization: { id: "acme" },
      related: { user: ["user-7", "Alice"], ip: ["203.0.113.9"] },
      trailkeeper: { tenant: "acme", seq: 42, hash: sampleEvent.hash, prevHash: sampleEvent.prevHash, category: "auth", actor: { type: "user" }, resource: sampleEvent.resource, details: { mfa: true }, sessionId: "sess-1" },
    });
    expect(JSON.parse((doc.event as { original: string }).original)).toEqual(sampleEvent);
    expect(doc).not.toHaveProperty("service");
  });

  it("puts service and system actors under service, not user", () => {
    const doc = ecsDocument(withChanges({ actor: { id: "ci-bot", type: "service" }, clientIp: undefined }));
    expect(doc.service).toEqual({ id: "ci-bot", name: "ci-bot" });
    expect(doc).not.toHaveProperty("user");
    expect(doc).not.toHaveProperty("source");
    expect(doc.related).toEqual({});
  });
});

describe("_bulk", () => {
  it("writes a create action with _id and the document, each line newline-terminated", () => {
    expect(bulkCreatePair("e-1", '{"a":1}')).toBe('{"create":{"_id":"e-1"}}\n{"a":1}\n');
  });

  it.each([
    [201, "delivered"],
    [200, "delivered"],
    [409, "delivered"],
    [429, "retry"],
    [503, "retry"],
    [500, "retry"],
    [404, "retry"],
    [400, "rejected"],
  ] as const)("an item with status %i is %s", (status, verdict) => {
    expect(bulkItemOutcome({ status, error: { type: "x", reason: "y" } }).status).toBe(verdict);
  });

  it("reads items in order and refuses a reply that does not match the batch", () => {
    const reply = { errors: true, items: [{ create: { status: 201 } }, { create: { status: 400, error: { type: "document_parsing_exception", reason: "failed to parse" } } }] };
    expect(bulkOutcomes(reply, 2)).toEqual([{ status: "delivered" }, { status: "rejected", reason: "item status 400 document_parsing_exception: failed to parse" }]);
    expect(bulkOutcomes(reply, 3)).toBeUndefined();
    expect(bulkOutcomes(undefined, 1)).toBeUndefined();
    expect(bulkOutcomes({ errors: false }, 2)).toEqual([{ status: "delivered" }, { status: "delivered" }]);
  });
});
