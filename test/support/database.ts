import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import { migrate } from "../../core/src/db/migrate.ts";
import { createPool, type Pool } from "../../core/src/db/pool.ts";

export interface TestDatabase {
  url: string;
  pool: Pool;
  /** A connection that bypasses the append-only triggers, for tamper tests. */
  superuser(): Promise<pg.Client>;
  drop(): Promise<void>;
}

/** A new, migrated database on the shared test server, so that test files never see each other's rows. */
export async function freshDatabase(): Promise<TestDatabase> {
  const db = await emptyDatabase(20);
  await migrate(db.pool);
  return db;
}

/** A new database on the shared test server with no schema at all. */
export async function emptyDatabase(poolSize: number): Promise<TestDatabase> {
  const serverUrl = inject("postgresUrl");
  const name = `tk_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const pool = createPool(url.toString(), poolSize);
  return {
    url: url.toString(),
    pool,
    async superuser() {
      const c = new pg.Client({ connectionString: url.toString() });
      await c.connect();
      return c;
    },
    async drop() {
      await pool.end();
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
