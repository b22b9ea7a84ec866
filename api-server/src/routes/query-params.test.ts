import { describe, expect, it } from "vitest";
import { Problem } from "../problem.ts";
import { parseQueryString } from "./query-params.ts";

describe("parseQueryString", () => {
  it("decodes names and values, '+' as a space, and repeats as arrays", () => {
    expect({ ...parseQueryString("q=a+b%20c&actor=%C3%A9%F0%9F%98%80&action=x&action=y&empty&=v") }).toEqual({ q: "a b c", actor: "é😀", action: ["x", "y"], empty: "", "": "v" });
  });

  it("reads a URL without a query string as no parameters", () => {
    expect({ ...parseQueryString(null) }).toEqual({});
    expect({ ...parseQueryString(undefined) }).toEqual({});
  });

  it("keeps __proto__ as an ordinary parameter name", () => {
    const parsed = parseQueryString("__proto__=1");
    expect(Object.keys(parsed)).toEqual(["__proto__"]);
  });

  it.each(["q=%ED%A0%80", "q=%C0%AF", "q=%FF", "q=%", "q=%zz", "%E2%82=x"])("refuses %s with a 400", (qs) => {
    expect(() => parseQueryString(qs)).toThrow(Problem);
  });

  it("refuses more than 1000 parameters instead of dropping the rest", () => {
    expect(() => parseQueryString(Array.from({ length: 1001 }, (_, i) => `p${i}=1`).join("&"))).toThrow(/at most 1000/);
  });
});
