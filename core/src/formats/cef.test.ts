import { describe, expect, it } from "vitest";
import { sampleEvent, withChanges } from "../destinations/testdata/sample-event.ts";
import { cefRecord } from "./cef.ts";
import { severityOf } from "./severity.ts";
import { hostileStrings } from "./testdata/hostile.ts";
import { parseCef } from "./testdata/line-parsers.ts";

describe("CEF", () => {
  it("writes the header and the standard keys of a stored event", () => {
    const { header, fields } = parseCef(cefRecord(sampleEvent));
    expect(header).toEqual(["Trailkeeper", "Trailkeeper", "1.0", "auth.login", 'auth.login by Alice on session "console": success', "4"]);
    expect(Object.fromEntries(fields)).toEqual({
      rt: String(Date.parse(sampleEvent.occurredAt)),
      externalId: sampleEvent.id,
      act: "auth.login",
      cat: "auth",
      outcome: "success",
      suser: "Alice",
      suid: "user-7",
      src: "203.0.113.9",
      requestClientApplication: "Mozilla/5.0",
      cs1Label: "tenant",
      cs1: "acme",
      cn1Label: "seq",
      cn1: "42",
      cs2Label: "hash",
      cs2: sampleEvent.hash,
      cs3Label: "prevHash",
      cs3: sampleEvent.prevHash,
      cs4Label: "resourceType",
      cs4: "session",
      cs5Label: "resourceId",
      cs5: "s-1",
      cs6Label: "resourceName",
      cs6: "console",
      flexString1Label: "details",
      flexString1: '{"mfa":true}',
      flexString2Label: "sessionId",
      flexString2: "sess-1",
      deviceCustomDate1Label: "receivedAt",
      deviceCustomDate1: String(Date.parse(sampleEvent.receivedAt)),
    });
  });

  it("puts an IPv6 client address under c6a2, as src is IPv4 only", () => {
    const { fields } = parseCef(cefRecord(withChanges({ clientIp: "2001:db8::1" })));
    expect(fields.get("c6a2")).toBe("2001:db8::1");
    expect(fields.get("c6a2Label")).toBe("Source IPv6 Address");
    expect(fields.has("src")).toBe(false);
  });

  it("grades severity by outcome and category", () => {
    expect(severityOf("failure", "auth")).toBe(7);
    expect(severityOf("success", "billing")).toBe(2);
    expect(severityOf("unknown", "resources")).toBe(4);
    expect(parseCef(cefRecord(withChanges({ outcome: "failure" }))).header[5]).toBe("7");
  });

  it.each(hostileStrings.map((s) => [JSON.stringify(s).slice(0, 40), s]))("round-trips %s exactly in the extension", (_name, text) => {
    const event = withChanges({ actor: { id: text, name: text, type: "user" }, userAgent: text, resource: { type: text, id: text, name: text }, details: { text } });
    const record = cefRecord(event);
    expect(record).not.toMatch(/[\r\n]/);
    const { header, fields } = parseCef(record);
    for (const key of ["suser", "suid", "requestClientApplication", "cs4", "cs5", "cs6"]) expect(fields.get(key), key).toBe(text);
    expect(JSON.parse(fields.get("flexString1")!)).toEqual({ text });
    // The header keeps pipes and backslashes; line breaks become spaces there (the extension has the exact text).
    expect(header[4]).toBe(`auth.login by ${text} on ${text} ${JSON.stringify(text)}: success`.replace(/\r\n|[\r\n]/g, " "));
  });
});
