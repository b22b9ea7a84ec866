import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/**
 * CPU seconds used so far by the benchmark itself, the API server and the Postgres cluster, and by the whole
 * machine (every process: what the three did not use was other work competing for the same CPUs).
 */
export interface CpuSnapshot {
  client: number;
  server: number;
  postgres: number;
  machine: number;
  /** Seconds CPUs sat idle waiting for I/O (summed over CPUs). */
  iowait: number;
}

/** Clock ticks per second of /proc CPU times. */
export const ticksPerSecond = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface ProcStat {
  ppid: number;
  /** utime + stime + cutime + cstime: its own and its reaped children's CPU, in seconds. */
  seconds: number;
}

function procStat(pid: number): ProcStat | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may hold spaces: state, ppid, … utime is the 12th.
    const f = raw.slice(raw.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    return { ppid: Number(f[1]), seconds: ticks / ticksPerSecond };
  } catch {
    return undefined;
  }
}

/**
 * The cluster's CPU: the postmaster (whose cutime/cstime include backends that have exited) plus every
 * live child (backends, WAL writer, checkpointer). Undefined when the server is not on this machine.
 */
function postgresSeconds(postmasterPid: number | undefined): number {
  if (!postmasterPid) return Number.NaN;
  let total = procStat(postmasterPid)?.seconds ?? 0;
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const s = procStat(Number(name));
    if (s?.ppid === postmasterPid) total += s.seconds;
  }
  return total;
}

/** The `cpu` line of /proc/stat: user nice system idle iowait irq softirq steal …, in ticks. */
function machineSeconds(): { busy: number; iowait: number } {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const [user = 0, nice = 0, system = 0, , iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
  return { busy: (user + nice + system + irq + softirq + steal) / ticksPerSecond, iowait: iowait / ticksPerSecond };
}

export function cpuSnapshot(serverPid: number | undefined, postmasterPid: number | undefined): CpuSnapshot {
  const own = process.cpuUsage();
  const m = machineSeconds();
  return {
    client: (own.user + own.system) / 1e6,
    server: serverPid ? (procStat(serverPid)?.seconds ?? Number.NaN) : Number.NaN,
    postgres: postgresSeconds(postmasterPid),
    machine: m.busy,
    iowait: m.iowait,
  };
}

export function cpuDelta(a: CpuSnapshot, b: CpuSnapshot): CpuSnapshot {
  return { client: b.client - a.client, server: b.server - a.server, postgres: b.postgres - a.postgres, machine: b.machine - a.machine, iowait: b.iowait - a.iowait };
}

/** Load average over the last minute and the CPU count, to show whether the machine was otherwise busy. */
export function machineLoad(): { load1: number; cpus: number } {
  const load1 = Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
  const cpus = Number(execFileSync("nproc", { encoding: "utf8" }).trim());
  return { load1, cpus };
}
