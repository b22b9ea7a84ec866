import { describe, expect, it } from "vitest";
import { assignSlots, rowTop, rowWindow } from "./layout.ts";

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

describe("assignSlots", () => {
  const slotsOf = (m: ReadonlyMap<number, number>) => [...m.values()];
  it("keeps the slots of rows that stay and gives entering rows the slots of rows that left", () => {
    const a = assignSlots(new Map(), 0, 5);
    expect([...a]).toEqual([[0, 0], [1, 1], [2, 2], [3, 3], [4, 4]]);
    const b = assignSlots(a, 3, 8);
    expect(b.get(3)).toBe(3);
    expect(b.get(4)).toBe(4);
    expect(new Set(slotsOf(b))).toEqual(new Set([0, 1, 2, 3, 4]));
  });

  it("reuses every slot when the window's length changes by one either way, and never shows a slot twice", () => {
    let m = assignSlots(new Map(), 0, 23);
    const used = new Set(slotsOf(m));
    for (let start = 0, step = 0; step < 200; step++) {
      start += step % 3;
      const end = start + (step % 2 === 0 ? 23 : 24);
      m = assignSlots(m, start, end);
      expect(m.size).toBe(end - start);
      expect(new Set(slotsOf(m)).size).toBe(m.size);
      for (const s of slotsOf(m)) used.add(s);
    }
    // One more slot than the first window, for the one-row-longer window; no slot made for each step.
    expect(used.size).toBe(24);
  });

  it("starts afresh on a jump far away with the same slots", () => {
    const a = assignSlots(new Map(), 0, 10);
    const b = assignSlots(a, 5000, 5010);
    expect(new Set(slotsOf(b))).toEqual(new Set(slotsOf(a)));
  });
});
