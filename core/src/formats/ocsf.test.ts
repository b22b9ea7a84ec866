import { describe, expect, it } from "vitest";
import { sampleEvent, withChanges } from "../destinations/testdata/sample-event.ts";
import { categoryTable, type CategoryId } from "../events/categories.ts";
import { outcomes, type StoredEvent } from "../events/model.ts";
import { ocsfEvent, ocsfVersion } from "./ocsf.ts";
import { ocsfClassOf, ocsfActivityOf, verbOf } from "./ocsf-classes.ts";
import { hostileStrings } from "./testdata/hostile.ts";
import { validate } from "./testdata/json-schema-subset.ts";
import { ocsfFixture as fixture, ocsfProblems } from "./testdata/ocsf-fixture.ts";

const problems = (event: StoredEvent) => ocsfProblems(ocsfEvent(event));

/** Actions of every category with the verbs the mapping knows, and some it does not. */
const verbsToTry = ["create", "read", "update", "delete", "login", "logout", "enable", "disable", "grant", "revoke", "member.add", "member.remove", "lock", "password_reset", "mfa_enabled", "move", "suspend", "restore", "frobnicate"];
const actionsOf = (prefixes: readonly string[]) => prefixes.flatMap((p) => verbsToTry.map((v) => `${p}.${v}`));

describe(`OCSF ${ocsfVersion}`, () => {
  it("is the version of the fixture", () => {
    expect(fixture.ocsfVersion).toBe(ocsfVersion);
  });

  it.each(categoryTable.map((c) => [c.id, c.prefixes] as const))("every %s action and outcome validates against the official class schema", (category, prefixes) => {
    for (const action of actionsOf(prefixes)) {
      for (const outcome of outcomes) {
        const event = withChanges({ action, category: category as CategoryId, outcome, resource: { type: action.startsWith("user.") ? "user" : "thing", id: "r-1" } });
        expect(problems(event), `${action} ${outcome}`).toEqual([]);
      }
    }
  });

  it("validates with optional fields absent, an IPv6 client, and hostile text", () => {
    const bare: StoredEvent = { id: sampleEvent.id, tenant: "t", seq: 1, occurredAt: sampleEvent.occurredAt, receivedAt: sampleEvent.receivedAt, actor: { id: "svc", type: "service" }, action: "billing.plan.change", category: "billing", resource: { type: "plan", id: "p" }, outcome: "unknown", prevHash: "0".repeat(64), hash: "1".repeat(64) };
    expect(problems(bare)).toEqual([]);
    expect(problems(withChanges({ clientIp: "2001:db8::1" }))).toEqual([]);
    for (const text of hostileStrings) expect(problems(withChanges({ actor: { id: text, name: text, type: "user" }, userAgent: text.slice(0, 1024), resource: { type: text, id: text } }))).toEqual([]);
  });

  it("maps the sample login to Authentication: Logon with the documented fields", () => {
    const ocsf = ocsfEvent(sampleEvent);
    expect(ocsf).toMatchObject({
      class_uid: 3002,
      category_uid: 3,
      activity_id: 1,
      type_uid: 300201,
      time: Date.parse(sampleEvent.occurredAt),
      status_id: 1,
      status: "Success",
      metadata: { version: "1.3.0", uid: sampleEvent.id, sequence: 42, tenant_uid: "acme", product: { vendor_name: "Trailkeeper", name: "Trailkeeper" } },
      actor: { user: { uid: "user-7", name: "Alice", type_id: 1 }, session: { uid: "sess-1" } },
      user: { uid: "user-7", name: "Alice" },
      src_endpoint: { ip: "203.0.113.9" },
      http_request: { user_agent: "Mozilla/5.0" },
      unmapped: { trailkeeper: { tenant: "acme", seq: 42, hash: sampleEvent.hash, prevHash: sampleEvent.prevHash } },
    });
    expect(JSON.parse(ocsf.raw_data as string)).toEqual(sampleEvent);
  });

  it.each([
    ["auth", "auth.login", 3002, 1],
    ["auth", "auth.logout", 3002, 2],
    ["auth", "mfa.challenge", 3002, 99],
    ["users", "user.create", 3001, 1],
    ["users", "user.password_reset", 3001, 4],
    ["users", "user.mfa_enabled", 3001, 10],
    ["users", "team.member.add", 3006, 3],
    ["permissions", "group.delete", 3006, 5],
    ["permissions", "role.assign", 3005, 1],
    ["permissions", "policy.revoke", 3005, 2],
    ["permissions", "role.create", 3004, 1],
    ["secrets", "secret.reveal", 3004, 2],
    ["api_keys", "apikey.rotate", 3004, 3],
    ["resources", "resource.delete", 3004, 4],
    ["sessions", "session.start", 6003, 99],
    ["audit", "audit.export", 6003, 2],
    ["billing", "billing.plan.update", 6003, 3],
  ] as const)("%s %s → class %i activity %i", (category, action, classUid, activityId) => {
    const cls = ocsfClassOf(category, action);
    expect([cls.uid, ocsfActivityOf(cls, action)[0]]).toEqual([classUid, activityId]);
  });

  it("finds the verb in the last words of an action", () => {
    expect(verbOf("user.role.assigned")).toBe("grant");
    expect(verbOf("team.member_removed")).toBe("remove");
    expect(verbOf("audit.something")).toBeUndefined();
  });

  it("fails validation for an event missing what its class requires (the check can fail)", () => {
    const ocsf = ocsfEvent(sampleEvent);
    delete ocsf.user;
    expect(validate({ ...ocsf, invented: 1, status_id: 7 }, fixture.classes["3002"]!, fixture.$defs)).toEqual([
      "$: missing required user",
      "$.status_id: 7 is not one of [0,1,2,99]",
      "$: invented is not an attribute here",
    ]);
  });
});
