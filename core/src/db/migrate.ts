import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { Pool } from "./pool.ts";

const migrationsDir = path.join(import.meta.dirname, "migrations");
/** Arbitrary constant shared by every replica so that only one migrates at a time. */
const migrationLockKey = 0x7472_6b70;

export async function listMigrations(): Promise<{ version: string; sql: string }[]> {
  const files = (await readdir(migrationsDir)).filter((f) => f.endsWith(".sql")).sort();
  return Promise.all(files.map(async (f) => ({ version: f.replace(/\.sql$/, ""), sql: await readFile(path.join(migrationsDir, f), "utf8") })));
}

/**
 * Applies pending migrations in order; safe when several replicas start at once. Returns those applied. With
 * `before`, only the migrations whose version sorts below it: the schema of an older release (upgrade tests).
 */
export async function migrate(pool: Pool, opts: { before?: string } = {}): Promise<string[]> {
  const client = await pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [migrationLockKey]);
    await client.query(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
    );
    const done = new Set((await client.query<{ version: string }>("SELECT version FROM schema_migrations")).rows.map((r) => r.version));
    const applied: string[] = [];
    for (const m of await listMigrations()) {
      if (done.has(m.version) || (opts.before !== undefined && m.version >= opts.before)) continue;
      await client.query("BEGIN");
      try {
        await client.query(m.sql);
        await client.query("INSERT INTO schema_migrations (version) VALUES ($1)", [m.version]);
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK");
        throw new Error(`migration ${m.version} failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(m.version);
    }
    return applied;
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [migrationLockKey]).catch(() => {});
    client.release();
  }
}

/** True when every known migration is recorded as applied. */
export async function migrationsApplied(pool: Pool): Promise<boolean> {
  const known = await listMigrations();
  const res = await pool.query<{ version: string }>("SELECT version FROM schema_migrations").catch(() => ({ rows: [] }));
  const done = new Set(res.rows.map((r) => r.version));
  return known.every((m) => done.has(m.version));
}
