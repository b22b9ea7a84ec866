import { describe, expect, it } from "vitest";
import { parseReplay } from "./replay.ts";

describe("parseReplay", () => {
  it("reads a seq or an RFC 3339 time", () => {
    expect(parseReplay("seq:42")).toEqual({ seq: 42 });
    expect(parseReplay(" seq:1 ")).toEqual({ seq: 1 });
    expect(parseReplay("2026-11-25T10:00:00Z")).toEqual({ time: new Date("2026-11-25T10:00:00Z") });
    expect(parseReplay("2026-11-25T10:00:00.5+01:00")).toEqual({ time: new Date("2026-11-25T09:00:00.500Z") });
  });
  it("rejects anything else", () => {
    for (const v of ["42", "seq:", "seq:-1", "yesterday", "2026-11-25", ""]) expect(parseReplay(v)).toBeUndefined();
  });
});
