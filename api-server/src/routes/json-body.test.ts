import { describe, expect, it } from "vitest";
import { Problem } from "../problem.ts";
import { firstInexactInteger, parseJsonBody } from "./json-body.ts";

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof Problem ? `${err.status} ${err.code}` : String(err);
  }
  return "accepted";
};

describe("firstInexactInteger", () => {
  it.each([
    ['{"n":9007199254740993}', "9007199254740993"],
    ["[-9007199254740993]", "-9007199254740993"],
    ['{"a":"9007199254740993","b":[1,123456789012345678901234]}', "123456789012345678901234"],
    ['{"s":"\\"","n":18446744073709551616}', "18446744073709551616"],
  ])("finds the unsafe integer in %s", (text, literal) => {
    expect(firstInexactInteger(text)).toBe(literal);
  });

  it.each([
    '{"n":9007199254740991,"m":-9007199254740991}',
    '{"s":"12345678901234567890"}',
    '{"s":"\\\\","t":"99999999999999999999"}',
    '{"f":1234567890123456789.5,"e":12345678901234567890e0,"x":1e400}',
    "[0.12345678901234567890]",
  ])("leaves %s alone (strings, fractions, exponents, safe integers)", (text) => {
    expect(firstInexactInteger(text)).toBeUndefined();
  });
});

describe("parseJsonBody", () => {
  it("parses UTF-8 JSON and keeps an own __proto__ key", () => {
    const value = parseJsonBody(Buffer.from('{"__proto__":{"x":1},"é":"😀"}')) as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(["__proto__", "é"]);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });

  it("reads an empty body as an empty object", () => expect(parseJsonBody(new Uint8Array())).toEqual({}));

  it.each([
    [Buffer.from([0x7b, 0xc0, 0xaf, 0x7d]), "400 invalid_utf8"],
    [Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]), "400 invalid_utf8"],
    [Buffer.from('{"a":'), "400 malformed_json"],
    [Buffer.from('{"a":90071992547409930}'), "400 inexact_number"],
  ])("refuses %o with %s", (bytes, code) => {
    expect(codeOf(() => parseJsonBody(bytes))).toBe(code);
  });
});
