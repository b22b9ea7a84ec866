import { describe, expect, it } from "vitest";
import { sampleEvent, withChanges } from "../testdata/sample-event.ts";
import { escapeParamValue, formatSyslogMessage, headerField, isSdName, octetCountedFrame, sdElement, trailkeeperSdId, utf8Prefix } from "./rfc5424.ts";

const identity = { facility: 13, hostname: "op-1.example.com", appName: "trailkeeper" };
const bom = "\u{FEFF}";

describe("RFC 5424 formatting", () => {
  it("renders header, structured data, BOM and the stored event as MSG", () => {
    const text = formatSyslogMessage(sampleEvent, identity).toString("utf8");
    expect(text).toBe(
      `<110>1 2025-01-01T12:00:00.123Z op-1.example.com trailkeeper - auth.login [trailkeeper@32473 tenant="acme" seq="42" id="${sampleEvent.id}" hash="${sampleEvent.hash}" prevHash="${sampleEvent.prevHash}" category="auth" outcome="success" actor="user-7"] ${bom}${JSON.stringify(sampleEvent)}`,
    );
    const bytes = formatSyslogMessage(sampleEvent, identity);
    const sdEnd = bytes.indexOf('"] ') + 3; // everything before MSG is ASCII
    expect(bytes.subarray(sdEnd, sdEnd + 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
  });

  it.each([
    ["success", 13, "<110>"],
    ["failure", 13, "<108>"],
    ["unknown", 13, "<109>"],
    ["success", 0, "<6>"],
    ["failure", 23, "<188>"],
  ] as const)("PRI of a %s event with facility %i is %s (no leading zeros)", (outcome, facility, pri) => {
    expect(formatSyslogMessage(withChanges({ outcome }), { ...identity, facility }).toString().startsWith(`${pri}1 `)).toBe(true);
  });

  it("escapes quote, backslash and closing bracket in PARAM-VALUE, and nothing else", () => {
    expect(escapeParamValue('a"b\\c]d [e]=ü')).toBe('a\\"b\\\\c\\]d [e\\]=ü');
    const text = formatSyslogMessage(withChanges({ actor: { id: 'ops "root" \\ [x]', type: "user" } }), identity).toString();
    expect(text).toContain('actor="ops \\"root\\" \\\\ [x\\]"]');
  });

  it("accepts only valid SD-NAMEs", () => {
    expect(isSdName(trailkeeperSdId)).toBe(true);
    for (const bad of ["", "a b", "a=b", 'a"b', "a]b", "x".repeat(33), "é"]) expect(isSdName(bad)).toBe(false);
    expect(() => sdElement("bad name", [])).toThrow(/invalid SD-NAME/);
  });

  it("keeps header fields to printable US-ASCII within their length, else NILVALUE", () => {
    expect(headerField("my host ü", 255)).toBe("myhost");
    expect(headerField("", 48)).toBe("-");
    expect(headerField(undefined, 48)).toBe("-");
    const longAction = `resource.${"x".repeat(40)}`;
    const text = formatSyslogMessage(withChanges({ action: longAction }), identity).toString();
    expect(text.split(" ")[5]).toBe(longAction.slice(0, 32));
  });

  it("uses NILVALUE for a timestamp outside the RFC 3339 profile", () => {
    expect(formatSyslogMessage(withChanges({ occurredAt: "+010000-01-01T00:00:00.000Z" }), identity).toString().split(" ")[1]).toBe("-");
  });

  it("truncates MSG at a character boundary and marks it when over the limit", () => {
    const big = withChanges({ details: { note: "ü€".repeat(2000) } });
    const full = formatSyslogMessage(big, identity);
    const cut = formatSyslogMessage(big, identity, 2048);
    expect(full.length).toBeGreaterThan(2048);
    expect(cut.length).toBeLessThanOrEqual(2048);
    expect(cut.length).toBeGreaterThan(2040);
    expect(Buffer.from(cut.toString("utf8"), "utf8")).toEqual(cut); // no split UTF-8 sequence
    expect(cut.toString()).toContain(' actor="user-7" truncated="true"]');
    expect(formatSyslogMessage(sampleEvent, identity, 2048).toString()).not.toContain("truncated");
  });

  it("cuts UTF-8 only between characters", () => {
    const bytes = Buffer.from("aé€", "utf8"); // 1 + 2 + 3 bytes
    expect(utf8Prefix(bytes, 2).toString()).toBe("a");
    expect(utf8Prefix(bytes, 3).toString()).toBe("aé");
    expect(utf8Prefix(bytes, 5).toString()).toBe("aé");
    expect(utf8Prefix(bytes, 6).toString()).toBe("aé€");
  });

  it("frames by octet count (RFC 6587 §3.4.1), counting bytes, not characters", () => {
    expect(octetCountedFrame(Buffer.from("<14>1 - - - - - - ü")).toString()).toBe("20 <14>1 - - - - - - ü");
  });
});
