/**
 * CPU used by processes outside the benchmark during a run: everything that is neither this process nor one of its
 * descendants (receivers, rsyslogd, the API server) nor the benchmark's Postgres cluster. On a shared machine this
 * names what competed with a run, so that a low number can be told apart from a busy neighbour.
 * Processes that start and exit within the window are missed; long-running neighbours are not.
 */
import { readdirSync, readFileSync } from "node:fs";
import { ticksPerSecond } from "./cpu.ts";


interface Proc {
  ppid: number;
  /** Own user + system CPU seconds (not reaped children, which would count twice). */
  seconds: number;
}

export type ProcessSnapshot = Map<number, Proc>;

export function processSnapshot(): ProcessSnapshot {
  const procs: ProcessSnapshot = new Map();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const raw = readFileSync(`/proc/${name}/stat`, "utf8");
      const f = raw.slice(raw.lastIndexOf(")") + 2).split(" ");
      procs.set(Number(name), { ppid: Number(f[1]), seconds: (Number(f[11]) + Number(f[12])) / ticksPerSecond });
    } catch {
      // exited meanwhile
    }
  }
  return procs;
}

function commandOf(pid: number): string {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ").replace(/^\S*\//, "").slice(0, 70);
    return cmd || `[${readFileSync(`/proc/${pid}/comm`, "utf8").trim()}]`;
  } catch {
    return `pid ${pid} (exited)`;
  }
}

export interface OtherCpu {
  seconds: number;
  /** The largest consumers, "1.2 s node bench/ingest.ts". */
  top: string[];
}

/** CPU seconds of processes that are not ours (see above) between two snapshots; `roots` are our top processes. */
export function otherCpu(before: ProcessSnapshot, after: ProcessSnapshot, roots: readonly number[]): OtherCpu {
  const ours = (pid: number): boolean => {
    for (let p: number | undefined = pid, depth = 0; p !== undefined && p > 1 && depth < 64; p = after.get(p)?.ppid, depth++) {
      if (roots.includes(p)) return true;
    }
    return false;
  };
  const used: [number, number][] = [];
  for (const [pid, proc] of after) {
    if (ours(pid)) continue;
    const delta = proc.seconds - (before.get(pid)?.seconds ?? 0);
    if (delta > 0) used.push([pid, delta]);
  }
  used.sort((a, b) => b[1] - a[1]);
  return { seconds: used.reduce((s, [, d]) => s + d, 0), top: used.slice(0, 3).filter(([, d]) => d >= 0.05).map(([pid, d]) => `${d.toFixed(2)} s ${commandOf(pid)}`) };
}
