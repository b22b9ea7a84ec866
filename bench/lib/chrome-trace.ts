/**
 * Reads a Chrome trace of a page that draws with requestAnimationFrame, for figures that, unlike frame deltas, barely
 * depend on the machine's load: thread CPU time (`tdur`) per frame on the renderer's main thread (categories
 * `devtools.timeline`, `toplevel`) and the major GCs with their pauses (categories `v8`,
 * `disabled-by-default-v8.gc`). Trace the two apart: `devtools.timeline` allocates enough on the page's heaps to
 * add major GCs of its own.
 */

export interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  tdur?: number;
  pid: number;
  tid: number;
}

export interface FrameCosts {
  /** Main-thread CPU ms of each frame (from one animation-frame callback to the next). */
  cpuPerFrame: number[];
  majorGcs: number;
  /** CPU ms of the longest major GC's main-thread pause. */
  longestGcMs: number;
  /** Mean CPU ms a frame in style and layout, and in script outside them (a rAF callback's forced layout is layout). */
  layoutMs: number;
  scriptMs: number;
}

const cpu = (e: TraceEvent) => (e.tdur ?? 0) / 1000;

/** The renderer main thread: the thread that ran the most animation-frame callbacks. */
function mainThread(events: readonly TraceEvent[]): (e: TraceEvent) => boolean {
  const counts = new Map<string, number>();
  for (const e of events) if (e.name === "FireAnimationFrame") counts.set(`${e.pid}:${e.tid}`, (counts.get(`${e.pid}:${e.tid}`) ?? 0) + 1);
  const key = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
  return (e) => `${e.pid}:${e.tid}` === key;
}

/** Index of the last sorted start at or before `ts` (-1 if none). */
function lastAtOrBefore(starts: readonly number[], ts: number): number {
  let lo = -1;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= ts) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export function frameCosts(all: readonly TraceEvent[]): FrameCosts {
  const onMain = mainThread(all);
  const main = all.filter((e) => e.ph === "X" && onMain(e));
  const named = (n: string) => main.filter((e) => e.name === n);
  const frames = named("FireAnimationFrame").map((e) => e.ts).sort((a, b) => a - b);
  const cpuPerFrame = new Array<number>(Math.max(0, frames.length - 1)).fill(0);
  for (const task of named("ThreadControllerImpl::RunTask")) {
    const i = lastAtOrBefore(frames, task.ts);
    if (i >= 0 && i < cpuPerFrame.length) cpuPerFrame[i]! += cpu(task);
  }
  const calls = named("FunctionCall").sort((a, b) => a.ts - b.ts);
  const callStarts = calls.map((c) => c.ts);
  const insideCall = (e: TraceEvent) => {
    const i = lastAtOrBefore(callStarts, e.ts);
    return i >= 0 && e.ts < calls[i]!.ts + (calls[i]!.dur ?? 0);
  };
  const layouts = main.filter((e) => e.name === "Layout" || e.name === "UpdateLayoutTree");
  const sum = (xs: readonly TraceEvent[]) => xs.reduce((s, e) => s + cpu(e), 0);
  const perFrame = (ms: number) => ms / Math.max(1, cpuPerFrame.length);
  // A trace of the categories v8 and disabled-by-default-v8.gc alone has no animation frames: its GCs are counted
  // wherever they ran (the page is the only one open).
  const gcs = frames.length > 0 ? named("MajorGC") : all.filter((e) => e.ph === "X" && e.name === "MajorGC");
  return {
    cpuPerFrame,
    majorGcs: gcs.length,
    longestGcMs: Math.max(0, ...gcs.map(cpu)),
    layoutMs: perFrame(sum(layouts)),
    scriptMs: perFrame(sum(calls) - sum(layouts.filter(insideCall))),
  };
}
