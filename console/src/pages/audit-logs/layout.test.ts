import { describe, expect, it } from "vitest";
import { rowTop, rowWindow } from "./layout.ts";

describe("rowWindow", () => {
  it("renders only the rows in view plus overscan, padding for the rest", () => {
    const w = rowWindow(10_000, 40 * 5000, 400, 40, [], 5);
    expect(w.start).toBe(4995);
    expect(w.end).toBe(5016);
    expect(w.topPad).toBe(4995 * 40);
    expect(w.topPad + (w.end - w.start) * 40 + w.bottomPad).toBe(10_000 * 40);
  });

  it("accounts for expanded rows above and inside the window", () => {
    const extras = [{ index: 2, height: 300 }];
    expect(rowTop(2, 40, extras)).toBe(80);
    expect(rowTop(3, 40, extras)).toBe(3 * 40 + 300);
    const w = rowWindow(100, 500, 100, 40, extras, 0);
    // Row 3 starts at 420, row 4 at 460, row 5 at 500.
    expect(w.start).toBe(5);
    expect(w.topPad + (w.end - w.start) * 40 + w.bottomPad).toBe(100 * 40 + 300);
  });

  it("handles empty lists and scrolling past the end", () => {
    expect(rowWindow(0, 0, 500, 40, [])).toEqual({ start: 0, end: 0, topPad: 0, bottomPad: 0 });
    const w = rowWindow(3, 10_000, 500, 40, [], 2);
    expect(w.end).toBe(3);
    expect(w.bottomPad).toBe(0);
  });
});
