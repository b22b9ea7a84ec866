import { describe, expect, it } from "vitest";
import { sampleEvent, withChanges } from "../destinations/testdata/sample-event.ts";
import { leefRecord } from "./leef.ts";
import { hostileStrings } from "./testdata/hostile.ts";
import { parseLeef } from "./testdata/line-parsers.ts";

describe("LEEF 2.0", () => {
  it("writes the header with a declared delimiter and the event's attributes", () => {
    const record = leefRecord(sampleEvent);
    expect(record.startsWith("LEEF:2.0|Trailkeeper|Trailkeeper|1.0|auth.login|^|devTime=2025-01-01T12:00:00.123Z^")).toBe(true);
    const { header, fields } = parseLeef(record);
    expect(header).toEqual(["Trailkeeper", "Trailkeeper", "1.0", "auth.login"]);
    expect(Object.fromEntries(fields)).toEqual({
      devTime: sampleEvent.occurredAt,
      devTimeFormat: "yyyy-MM-dd'T'HH:mm:ss.SSSX",
      cat: "auth",
      sev: "4",
      usrName: "Alice",
      src: "203.0.113.9",
      eventId: sampleEvent.id,
      action: "auth.login",
      outcome: "success",
      summary: 'auth.login by Alice on session "console": success',
      actorId: "user-7",
      actorType: "user",
      resourceType: "session",
      resourceId: "s-1",
      resourceName: "console",
      userAgent: "Mozilla/5.0",
      sessionId: "sess-1",
      requestId: "req-1",
      details: '{"mfa":true}',
      receivedAt: sampleEvent.receivedAt,
      tenant: "acme",
      seq: "42",
      hash: sampleEvent.hash,
      prevHash: sampleEvent.prevHash,
    });
  });

  it.each(hostileStrings.map((s) => [JSON.stringify(s).slice(0, 40), s]))("round-trips %s exactly", (_name, text) => {
    const event = withChanges({ actor: { id: text, name: text, type: "user" }, userAgent: text, resource: { type: text, id: text, name: text }, sessionId: text, requestId: text });
    const record = leefRecord(event);
    expect(record).not.toMatch(/[\r\n]/);
    const { fields } = parseLeef(record);
    for (const key of ["usrName", "actorId", "resourceType", "resourceId", "resourceName", "userAgent", "sessionId", "requestId"]) expect(fields.get(key), key).toBe(text);
    expect(fields.get("summary")).toBe(`auth.login by ${text} on ${text} ${JSON.stringify(text)}: success`);
  });
});
