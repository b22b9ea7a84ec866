/**
 * Row geometry for the virtualised table: every collapsed row is `rowHeight` tall and an expanded row adds its
 * measured details height, so the offset of row i is i·rowHeight plus the extras above it. Pure, so it is tested
 * without a browser.
 */
export interface Extra {
  index: number;
  height: number;
}

export interface RowWindow {
  start: number;
  end: number;
  topPad: number;
  bottomPad: number;
}

/** The offset of row `i` from the top; `extras` sorted by index. */
export function rowTop(i: number, rowHeight: number, extras: readonly Extra[]): number {
  let top = i * rowHeight;
  for (const e of extras) {
    if (e.index >= i) break;
    top += e.height;
  }
  return top;
}

/** The rows to render for a viewport, with `overscan` rows either side, and the padding that stands in for the rest. */
export function rowWindow(count: number, scrollTop: number, viewport: number, rowHeight: number, extras: readonly Extra[], overscan = 10): RowWindow {
  const total = rowTop(count, rowHeight, extras);
  if (count === 0) return { start: 0, end: 0, topPad: 0, bottomPad: 0 };
  const first = lastRowAtOrAbove(count, Math.max(0, scrollTop), rowHeight, extras);
  const last = lastRowAtOrAbove(count, scrollTop + viewport, rowHeight, extras);
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, last + 1 + overscan);
  const topPad = rowTop(start, rowHeight, extras);
  return { start, end, topPad, bottomPad: total - rowTop(end, rowHeight, extras) };
}

/** The last row whose top is at or above `y` (binary search over rowTop). */
function lastRowAtOrAbove(count: number, y: number, rowHeight: number, extras: readonly Extra[]): number {
  let lo = 0;
  let hi = count - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (rowTop(mid, rowHeight, extras) <= y) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Which slot (row element) shows each row of the window [start, end): rows that stay keep theirs, and rows that
 * enter take the slots of rows that left, so a scroll updates a few row elements instead of creating new ones,
 * whether or not the window's length changed (it changes by one whenever a row edge crosses the viewport's top
 * or bottom). New slot numbers are made only when the window is longer than any before.
 */
export function assignSlots(previous: ReadonlyMap<number, number>, start: number, end: number): Map<number, number> {
  const next = new Map<number, number>();
  const free: number[] = [];
  for (const [index, slot] of previous) {
    if (index >= start && index < end) next.set(index, slot);
    else free.push(slot);
  }
  const taken = new Set(next.values());
  let fresh = 0;
  for (let i = start; i < end; i++) {
    if (next.has(i)) continue;
    let slot = free.pop();
    if (slot === undefined) {
      while (taken.has(fresh)) fresh++;
      slot = fresh;
    }
    taken.add(slot);
    next.set(i, slot);
  }
  return next;
}
