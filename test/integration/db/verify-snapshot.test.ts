import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyStoredChain } from "../../../api-server/src/services/verify.ts";
import { createTenant } from "../../../core/src/db/event-store.ts";
import { inTransaction, type Pool, type PoolClient } from "../../../core/src/db/pool.ts";
import type { NoteVerifier } from "../../../core/src/integrity/signing-key.ts";
import { bulkAppend } from "../../support/bulk.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const noCheckpoints: NoteVerifier = { name: "unused", keyId: "unused", verify: () => { throw new Error("no checkpoint expected"); } };

/**
 * A pool whose reads of `chain_heads`, wherever they run (the pool itself or a checked-out client), are followed
 * by `afterHeadRead` before their result is handed back: the moment between reading the head and walking the chain.
 */
function poolWithHook(afterHeadRead: () => Promise<void>): Pool {
  let fired = false;
  const hooked = <T extends Pool | PoolClient>(target: T): T =>
    new Proxy(target, {
      get(t, prop) {
        if (prop === "query") {
          return (...args: unknown[]) => {
            const result = (t.query as (...a: unknown[]) => unknown)(...args);
            // Submittables (a cursor) come back as they are; only plain queries of the head are held.
            if (fired || typeof args[0] !== "string" || !args[0].includes("FROM chain_heads")) return result;
            fired = true;
            return (result as Promise<unknown>).then(async (r) => {
              await afterHeadRead();
              return r;
            });
          };
        }
        if (prop === "connect") return async () => hooked(await (t as Pool).connect());
        const v = Reflect.get(t, prop) as unknown;
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
  return hooked(db.pool);
}

describe("verifyStoredChain", () => {
  it("is not fooled by events appended while it runs: it verifies the chain as of one moment", async () => {
    await inTransaction(db.pool, (c) => createTenant(c, "busy"));
    await bulkAppend(db.pool, "busy", 50);
    let appended = false;
    const pool = poolWithHook(async () => {
      await bulkAppend(db.pool, "busy", 5);
      appended = true;
    });
    const result = await verifyStoredChain(pool, noCheckpoints, "busy", 1);
    expect(appended).toBe(true);
    expect(result).toMatchObject({ ok: true, checked: 50, headSeq: 50 });
    expect((await verifyStoredChain(db.pool, noCheckpoints, "busy", 1)).checked).toBe(55);
  });
});
