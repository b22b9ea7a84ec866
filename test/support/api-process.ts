import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { freePort } from "../../core/src/db/embedded.ts";
import type { Pool } from "../../core/src/db/pool.ts";

const mainScript = path.resolve(import.meta.dirname, "../../api-server/src/main.ts");

/** The API server as a real child process (`node api-server/src/main.ts`), as `npm start` runs it. */
export interface ApiProcess {
  child: ChildProcess;
  base: string;
  port: number;
  /** stdout and stderr so far (JSON log lines and the admin-token banner). */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` (default SIGKILL) if still running and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function spawnApiServer(env: Record<string, string>): Promise<ApiProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [mainScript], {
    env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (out += b.toString()));
  const exited = once(child, "exit").then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  const proc: ApiProcess = {
    child, port, base: `http://127.0.0.1:${port}`, output: () => out, exited,
    async kill(signal = "SIGKILL") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  const ready = await waitUntil(async () => (await fetch(`${proc.base}/readyz`).catch(() => undefined))?.status === 200 || child.exitCode !== null, 120_000);
  if (!ready || child.exitCode !== null) throw new Error(`API server did not become ready (exit ${child.exitCode}):\n${out}`);
  return proc;
}

export async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return cond();
}

/** The pid of a cluster's postmaster, from its lock file. */
export async function postmasterPid(clusterDir: string): Promise<number> {
  return Number((await readFile(path.join(clusterDir, "postmaster.pid"), "utf8")).split("\n")[0]);
}

/** Kills a postgres still running on `clusterDir` (left by a failed test), checking its command line first. */
export async function killClusterOf(clusterDir: string): Promise<void> {
  const pid = await postmasterPid(clusterDir).catch(() => 0);
  if (!pid) return;
  const argv = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  if (argv.split("\0").includes(clusterDir)) process.kill(pid, "SIGKILL");
}

/** How one ingest request ended, as a client sees it. */
export type Outcome =
  | { kind: "response"; status: number; retryAfter: string | null; code?: string; ids: string[]; at: number }
  | { kind: "refused"; at: number }
  | { kind: "error"; message: string; at: number };

/**
 * `clients` loops, each posting one event at a time (keep-alive connections, like any HTTP client) until
 * `stop()`, or until its request is refused (the server stopped listening) when `untilRefused` is set.
 * Every event carries a unique resource id, so duplicates can be counted in the table.
 */
export function ingestLoad(base: string, key: string, clients: number, opts: { untilRefused?: boolean } = {}) {
  const outcomes: Outcome[] = [];
  let stopped = false;
  let n = 0;
  const prefix = randomUUID().slice(0, 8);
  // Odd clients send their own event ids: those requests take the locking path, a transaction on a checked-out
  // connection, rather than the optimistic single statement.
  const one = async (client: number): Promise<Outcome> => {
    const body = { ...(client % 2 ? { id: randomUUID() } : {}), actor: { id: "load", type: "user" }, action: "resource.update", resource: { type: "load", id: `r-${prefix}-${(n += 1)}` }, outcome: "success" };
    try {
      const res = await fetch(`${base}/v1/events`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });
      const json = (await res.json().catch(() => ({}))) as { events?: { id: string }[]; code?: string };
      return { kind: "response", status: res.status, retryAfter: res.headers.get("retry-after"), code: json.code, ids: (json.events ?? []).map((e) => e.id), at: Date.now() };
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      if (cause?.code === "ECONNREFUSED") return { kind: "refused", at: Date.now() };
      return { kind: "error", message: `${cause?.code ?? ""} ${cause?.message ?? String(err)}`, at: Date.now() };
    }
  };
  const loop = async (_: unknown, client: number) => {
    while (!stopped) {
      const o = await one(client);
      outcomes.push(o);
      if (o.kind === "refused" && opts.untilRefused) return;
    }
  };
  const done = Promise.all(Array.from({ length: clients }, loop));
  return {
    outcomes,
    // 200: every event of the request was already stored (a retried group whose first commit landed unanswered).
    acked: () => outcomes.flatMap((o) => (o.kind === "response" && (o.status === 201 || o.status === 200) ? o.ids : [])),
    async stop() {
      stopped = true;
      await done;
    },
    done,
  };
}

/** Each acknowledged id stored exactly once, and no event (by its unique resource id) stored twice. */
export async function storedExactlyOnce(pool: Pool, tenant: string, ids: string[]): Promise<{ missing: number; duplicated: number }> {
  const found = await pool.query<{ n: number }>("SELECT count(DISTINCT id) AS n FROM events WHERE tenant = $1 AND id = ANY($2::uuid[])", [tenant, ids]);
  const dup = await pool.query<{ n: number }>("SELECT count(*) AS n FROM (SELECT resource_id FROM events WHERE tenant = $1 AND resource_type = 'load' GROUP BY resource_id HAVING count(*) > 1) d", [tenant]);
  return { missing: new Set(ids).size - found.rows[0]!.n, duplicated: dup.rows[0]!.n };
}
