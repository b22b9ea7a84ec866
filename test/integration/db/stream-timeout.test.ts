import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPool, type Pool } from "../../../core/src/db/pool.ts";
import { withConnection } from "../../../core/src/db/stream.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";

let db: TestDatabase;
let pool: Pool;

beforeAll(async () => {
  db = await freshDatabase();
  // One connection with a short default statement timeout, as the API server's pool has one.
  pool = createPool(db.url, { max: 1, statementTimeoutMs: 200 });
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

const sleep = (c: { query: (q: string) => Promise<unknown> }) => c.query("SELECT pg_sleep(0.5)");

describe("withConnection statementTimeoutMs", () => {
  it("lets a long read outlive the pool's statement timeout on its own connection, then restores the default", async () => {
    await expect(withConnection(pool, sleep)).rejects.toMatchObject({ code: "57014" });
    await withConnection(pool, sleep, { statementTimeoutMs: 0 });
    await withConnection(pool, sleep, { statementTimeoutMs: 5_000, snapshot: true });
    // The same (only) connection is back in the pool with the default.
    expect((await pool.query("SHOW statement_timeout")).rows[0].statement_timeout).toBe("200ms");
    await expect(pool.query("SELECT pg_sleep(0.5)")).rejects.toMatchObject({ code: "57014" });
  });

  it("cancels a read that exceeds its own timeout", async () => {
    await expect(withConnection(pool, sleep, { statementTimeoutMs: 100 })).rejects.toMatchObject({ code: "57014" });
    expect((await pool.query("SHOW statement_timeout")).rows[0].statement_timeout).toBe("200ms");
  });
});
