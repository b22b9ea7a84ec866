import { describe, expect, it } from "vitest";
import { canonicalJson } from "./canonical.ts";

describe("canonicalJson (RFC 8785)", () => {
  it("serialises numbers as ECMAScript does (RFC 8785 appendix B samples)", () => {
    const cases: [number, string][] = [
      // eslint-disable-next-line no-loss-of-precision -- RFC 8785 sample: the literal rounds exactly as the RFC expects
      [0, "0"], [-0, "0"], [1e21, "1e+21"], [1e-7, "1e-7"], [0.000001, "0.000001"], [333333333.33333329, "333333333.3333333"],
      [4.5, "4.5"], [2e-3, "0.002"], [9007199254740992, "9007199254740992"], [295147905179352830000, "295147905179352830000"],
      [5e-324, "5e-324"], [-1.7976931348623157e308, "-1.7976931348623157e+308"],
    ];
    for (const [n, s] of cases) expect(canonicalJson(n)).toBe(s);
  });

  it("sorts keys by UTF-16 code units (RFC 8785 §3.2.3 example)", () => {
    const obj = { "\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One", "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis" };
    const keys = Object.keys(JSON.parse(canonicalJson(obj)) as object);
    expect(canonicalJson(obj)).toMatch(/^\{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":/);
    expect(keys).toHaveLength(7);
    expect(canonicalJson(obj).indexOf("\ud83d\ude00")).toBeLessThan(canonicalJson(obj).indexOf("\ufb33"));
  });

  it("escapes strings minimally and nests without whitespace", () => {
    expect(canonicalJson({ b: [1, "x\n\"\u001f/é"], a: { z: null, y: true } })).toBe('{"a":{"y":true,"z":null},"b":[1,"x\\n\\"\\u001f/é"]}');
  });

  it("omits undefined members and rejects what JSON cannot carry", () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(() => canonicalJson(Number.NaN)).toThrow();
    expect(() => canonicalJson(Infinity)).toThrow();
    expect(() => canonicalJson("\ud800")).toThrow();
    expect(() => canonicalJson(() => 1)).toThrow();
  });
});
