import { describe, expect, it } from "vitest";
import { cellText, visibleText } from "./text.ts";

describe("visibleText", () => {
  it("shows bidi overrides and isolates as markers, so they cannot reorder what follows", () => {
    expect(visibleText("invoice\u202Efdp.exe")).toBe("invoice⟨U+202E⟩fdp.exe");
    expect(visibleText("a\u2066b\u2069")).toBe("a⟨U+2066⟩b⟨U+2069⟩");
  });
  it("shows zero-width and control characters, keeps ordinary text, tabs and newlines", () => {
    expect(visibleText("ad\u200Bmin\u0007")).toBe("ad⟨U+200B⟩min⟨U+0007⟩");
    expect(visibleText("<script>alert(1)</script>\tok\n")).toBe("<script>alert(1)</script>\tok\n");
    expect(visibleText("Zoë 東京 🚀")).toBe("Zoë 東京 🚀");
  });
});

describe("cellText", () => {
  it("cuts long values with an ellipsis and maps undefined to empty", () => {
    expect(cellText("x".repeat(500))).toHaveLength(201);
    expect(cellText(undefined)).toBe("");
  });
});
