import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fmtInt, table } from "./stats.ts";

/** The parts of a V8 `.cpuprofile` (as written by `node --cpu-prof`) that a summary needs. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Monotonic microseconds, the clock V8 stamps profile samples with (CLOCK_MONOTONIC, like process.hrtime). */
export const monotonicMicros = (): number => Number(process.hrtime.bigint() / 1000n);

export function loadProfile(dir: string): CpuProfile {
  const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
  if (!file) throw new Error(`no .cpuprofile in ${dir}`);
  return JSON.parse(readFileSync(path.join(dir, file), "utf8")) as CpuProfile;
}

const repoRoot = path.resolve(import.meta.dirname, "..", "..");

/** Where a frame's code lives: a package, a repository file, a Node.js internal module, or V8 itself. */
function area(url: string, functionName: string): string {
  if (!url) return functionName.startsWith("(") ? functionName : `native ${functionName || "(anonymous)"}`;
  const pkg = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (pkg) return `npm ${pkg[1]}`;
  if (url.startsWith("node:")) return url.replace(/^node:(internal\/)?/, "node ");
  const file = url.replace(/^file:\/\//, "");
  return file.startsWith(repoRoot) ? path.relative(repoRoot, file) : file;
}

const frameName = (n: { callFrame: CpuProfile["nodes"][number]["callFrame"] }): string =>
  `${n.callFrame.functionName || "(anonymous)"} ${area(n.callFrame.url, n.callFrame.functionName)}:${n.callFrame.lineNumber + 1}`;

export interface ProfileSummary {
  windowMs: number;
  /** Sampled milliseconds on the main thread that were not idle. */
  busyMs: number;
  byArea: [string, number][];
  /** Functions by self time, wherever they live. */
  byFunction: [string, number][];
  /** Project functions (outside node_modules) by inclusive time: their own work and everything they call. */
  inclusive: [string, number][];
}

type ProfileNode = CpuProfile["nodes"][number];
const add = (m: Map<string, number>, k: string, ms: number) => m.set(k, (m.get(k) ?? 0) + ms);

/** Milliseconds of samples per node id over [fromUs, toUs); a sample stands for the interval up to the next one. */
function selfTimes(profile: CpuProfile, fromUs: number, toUs: number): Map<number, number> {
  const selfMs = new Map<number, number>();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (t < fromUs || t >= toUs) continue;
    const id = profile.samples[i]!;
    selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0) / 1000);
  }
  return selfMs;
}

/** Charges a sample to every distinct project function on its stack (once each, despite recursion). */
function chargeStack(id: number, ms: number, byId: Map<number, ProfileNode>, parent: Map<number, number>, inclusive: Map<string, number>): void {
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const n = byId.get(cur)!;
    const url = n.callFrame.url;
    if (!url.startsWith("file://") || url.includes("/node_modules/")) continue;
    const name = frameName(n);
    if (!seen.has(name)) add(inclusive, name, ms);
    seen.add(name);
  }
}

/** Self time by code area and function, and inclusive time of project functions, over samples in [fromUs, toUs). */
export function summarise(profile: CpuProfile, fromUs = -Infinity, toUs = Infinity): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let busyMs = 0;
  for (const [id, ms] of selfTimes(profile, fromUs, toUs)) {
    const node = byId.get(id)!;
    const a = area(node.callFrame.url, node.callFrame.functionName);
    add(areas, a, ms);
    add(functions, frameName(node), ms);
    if (a !== "(idle)") busyMs += ms;
    chargeStack(id, ms, byId, parent, inclusive);
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  const windowMs = (Math.min(toUs, profile.endTime) - Math.max(fromUs, profile.startTime)) / 1000;
  return { windowMs, busyMs, byArea: sorted(areas), byFunction: sorted(functions), inclusive: sorted(inclusive) };
}

export function formatSummary(title: string, s: ProfileSummary, top = 18): string {
  const pct = (ms: number) => `${((100 * ms) / s.windowMs).toFixed(1)}%`;
  const busy = `${fmtInt(s.busyMs)} ms busy of ${fmtInt(s.windowMs)} ms (${pct(s.busyMs)} of one core)`;
  return [
    `${title}: server main thread ${busy}`,
    table(["self time by code area", "ms", "% of wall"], s.byArea.slice(0, top).map(([k, v]) => [k, fmtInt(v), pct(v)])),
    "",
    table(["self time by function", "ms", "% of wall"], s.byFunction.filter(([k]) => !k.startsWith("(idle)")).slice(0, top).map(([k, v]) => [k, fmtInt(v), pct(v)])),
    "",
    table(["inclusive time, project functions", "ms", "% of wall"], s.inclusive.slice(0, top).map(([k, v]) => [k, fmtInt(v), pct(v)])),
  ].join("\n");
}

// `node bench/lib/cpuprofile.ts <dir-or-file>` summarises a whole profile.
if (import.meta.filename === process.argv[1]) {
  const target = process.argv[2];
  if (!target) throw new Error("usage: node bench/lib/cpuprofile.ts <profile dir or .cpuprofile file>");
  const profile = target.endsWith(".cpuprofile") ? (JSON.parse(readFileSync(target, "utf8")) as CpuProfile) : loadProfile(target);
  process.stdout.write(`${formatSummary(path.basename(target), summarise(profile), 30)}\n`);
}
