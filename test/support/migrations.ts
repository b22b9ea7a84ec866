import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import { listMigrations } from "../../core/src/db/migrate.ts";
import { createPool, type Pool } from "../../core/src/db/pool.ts";

/** A database migrated only up to (not including) `before`, as an installation of an older release would be. */
export async function databaseBefore(before: string): Promise<{ pool: Pool; drop(): Promise<void> }> {
  const serverUrl = inject("postgresUrl");
  const name = `tk_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const pool = createPool(url.toString(), 5);
  await pool.query("CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
  for (const m of (await listMigrations()).filter((x) => x.version < before)) {
    await pool.query(m.sql);
    await pool.query("INSERT INTO schema_migrations (version) VALUES ($1)", [m.version]);
  }
  return {
    pool,
    async drop() {
      await pool.end();
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
