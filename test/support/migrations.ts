import { migrate } from "../../core/src/db/migrate.ts";
import { emptyDatabase, type TestDatabase } from "./database.ts";

/** A database migrated only up to (not including) `before`, as an installation of an older release would be. */
export async function databaseBefore(before: string): Promise<TestDatabase> {
  const db = await emptyDatabase(5);
  await migrate(db.pool, { before });
  return db;
}
