import { describe, expect, it } from "vitest";
import { csvRecord, neutralise } from "../../../test/support/csv-reference.ts";
import { parseCsv, restore } from "./csv.ts";

describe("CSV", () => {
  it("neutralises formula-like cells reversibly", () => {
    for (const cell of ["=1+1", "+1", "-1", "@x", "\tx", "\rx", "\nx", "'x", "plain", ""]) expect(restore(neutralise(cell))).toBe(cell);
    expect(neutralise("=1+1")).toBe("'=1+1");
    expect(neutralise("a=b")).toBe("a=b");
  });

  it("quotes only when needed and parses its own output strictly", () => {
    const cells = ["a", "b,c", 'd"e', "f\r\ng", ""];
    const line = csvRecord(cells);
    expect(line).toBe('a,"b,c","d""e","f\r\ng",\r\n');
    expect([...parseCsv(line + line)]).toEqual([cells, cells]);
  });

  it("rejects malformed quoting", () => {
    expect(() => [...parseCsv('a"b,c\r\n')]).toThrow(/quote inside/);
    expect(() => [...parseCsv('"ab"c,d\r\n')]).toThrow(/after closing quote/);
    expect(() => [...parseCsv('"abc')]).toThrow(/unterminated/);
  });
});
