import { listMigrations } from "../../core/src/db/migrate.ts";
import { emptyDatabase, type TestDatabase } from "./database.ts";

/** A database migrated only up to (not including) `before`, as an installation of an older release would be. */
export async function databaseBefore(before: string): Promise<TestDatabase> {
  const db = await emptyDatabase(5);
  await db.pool.query("CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
  for (const m of (await listMigrations()).filter((x) => x.version < before)) {
    await db.pool.query(m.sql);
    await db.pool.query("INSERT INTO schema_migrations (version) VALUES ($1)", [m.version]);
  }
  return db;
}
