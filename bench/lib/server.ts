import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, readFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { freePort } from "../../core/src/db/embedded.ts";
import { loadSigningKey } from "../../core/src/integrity/signing-key.ts";

const repoRoot = path.resolve(import.meta.dirname, "..", "..");
const logName = "trailkeeper.dev/audit";

export interface BenchServer {
  url: string;
  pid: number;
  adminToken: string;
  /** Directory of the server's V8 CPU profile (written at exit) when profiling was asked for. */
  cpuProfileDir?: string;
  stop(): Promise<void>;
}

/**
 * The API server as a child process (`node api-server/src/main.ts`) with its default configuration, so that
 * the load generator and the server do not share an event loop. Its logs go to `<workDir>/api-server.log`.
 */
export async function startServerProcess(opts: { databaseUrl: string; workDir: string; cpuProfile: boolean; env?: Record<string, string> }): Promise<BenchServer> {
  const port = await freePort();
  const adminToken = `tka_bench_${randomBytes(24).toString("hex")}`;
  const keyFile = path.join(opts.workDir, "signing-key.pem");
  await loadSigningKey(keyFile, logName, true);
  const logFile = path.join(opts.workDir, "api-server.log");
  const out = openSync(logFile, "a");
  const cpuProfileDir = opts.cpuProfile ? path.join(opts.workDir, "cpu-profile") : undefined;
  const child: ChildProcess = spawn(
    process.execPath,
    [...(cpuProfileDir ? ["--cpu-prof", `--cpu-prof-dir=${cpuProfileDir}`] : []), path.join(repoRoot, "api-server/src/main.ts")],
    {
      cwd: repoRoot,
      stdio: ["ignore", out, out],
      env: {
        PATH: process.env.PATH ?? "",
        PORT: String(port),
        HOST: "127.0.0.1",
        DATABASE_URL: opts.databaseUrl,
        TRAILKEEPER_ADMIN_TOKEN: adminToken,
        TRAILKEEPER_SIGNING_KEY_FILE: keyFile,
        TRAILKEEPER_DATA_DIR: path.join(opts.workDir, "server-data"),
        ...opts.env,
      },
    },
  );
  closeSync(out);
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) => child.once("exit", (code, signal) => {
    exited = code ?? (signal ? -1 : null);
    resolve();
  }));
  const url = `http://127.0.0.1:${port}`;
  const tail = () => readFileSync(logFile, "utf8").split("\n").slice(-20).join("\n");
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== undefined) throw new Error(`the API server exited during start-up (code ${exited}):\n${tail()}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`the API server was not ready within 60 s:\n${tail()}`);
    }
    const ready = await request(`${url}/readyz`).then(async (r) => (await r.body.dump(), r.statusCode === 200), () => false);
    if (ready) break;
    await sleep(100);
  }
  return {
    url,
    pid: child.pid!,
    adminToken,
    ...(cpuProfileDir ? { cpuProfileDir } : {}),
    async stop() {
      if (exited === undefined) child.kill("SIGTERM");
      await Promise.race([exit, sleep(30_000).then(() => child.kill("SIGKILL"))]);
      if (exited !== 0) throw new Error(`the API server did not shut down cleanly (code ${exited}):\n${tail()}`);
    },
  };
}

async function adminCall(server: BenchServer, pathname: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const r = await request(server.url + pathname, {
    method: "POST",
    headers: { authorization: `Bearer ${server.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: r.statusCode, body: await r.body.json() };
}

/** Creates a tenant through the admin API; with `scopes`, also an API key (whose creation is the chain's seq 1). */
export async function createTenant(server: BenchServer, tenant: string, scopes?: string[]): Promise<string | undefined> {
  const t = await adminCall(server, "/v1/admin/tenants", { id: tenant });
  if (t.status !== 201) throw new Error(`creating tenant ${tenant}: ${t.status} ${JSON.stringify(t.body)}`);
  if (!scopes) return undefined;
  const k = await adminCall(server, `/v1/admin/tenants/${tenant}/api-keys`, { scopes, name: "bench" });
  if (k.status !== 201) throw new Error(`creating a key for ${tenant}: ${k.status} ${JSON.stringify(k.body)}`);
  return (k.body as { key: string }).key;
}

/** Append transactions so far and the events they carried, from the server's group-commit histogram. */
export async function appendTransactions(server: BenchServer): Promise<{ transactions: number; events: number }> {
  const r = await request(`${server.url}/metrics`);
  const text = await r.body.text();
  const value = (name: string) => Number(text.match(new RegExp(`^${name} (\\S+)$`, "m"))?.[1] ?? Number.NaN);
  return { transactions: value("trailkeeper_append_transaction_events_count"), events: value("trailkeeper_append_transaction_events_sum") };
}
