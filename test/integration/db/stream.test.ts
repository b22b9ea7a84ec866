import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { inlineParams, sqlLiteral } from "../../../core/src/db/sql-literal.ts";
import { forEachRow, withConnection, withCopyOut } from "../../../core/src/db/stream.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  await db?.drop();
});

/** forEachRow on a connection of its own, as the product runs it. */
const each = <R extends object>(text: string, values: unknown[], onRow: (row: R) => void | Promise<void>, batchSize?: number) =>
  withConnection(db.pool, (client) => forEachRow<R>(client, text, values, onRow, batchSize));

const busyConnections = async () =>
  Number((await db.pool.query("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND state <> 'idle' AND pid <> pg_backend_pid()")).rows[0].n);

describe("forEachRow", () => {
  it("hands over every row once, in order, across many prefetched batches", async () => {
    const seen: number[] = [];
    await each<{ n: number }>("SELECT n FROM generate_series(1, $1::int) n ORDER BY n", [1234], (r) => {
      seen.push(r.n);
    }, 100);
    expect(seen).toEqual(Array.from({ length: 1234 }, (_, i) => i + 1));
  });

  it("handles an empty result and a batch that ends exactly on the last row", async () => {
    let count = 0;
    await each("SELECT 1 WHERE false", [], () => {
      count += 1;
    }, 100);
    await each("SELECT n FROM generate_series(1, 200) n", [], () => {
      count += 1;
    }, 100);
    expect(count).toBe(200);
  });

  it("stops the query and keeps the pool usable when the consumer throws", async () => {
    let calls = 0;
    const failing = each("SELECT generate_series(1, 100000000) AS n", [], () => {
      calls += 1;
      if (calls === 150) throw new Error("consumer failed");
    }, 100);
    await expect(failing).rejects.toThrow("consumer failed");
    expect(calls).toBe(150);
    let busy = 1;
    for (let i = 0; i < 50 && busy > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      busy = await busyConnections();
    }
    expect(busy).toBe(0);
    expect((await db.pool.query("SELECT 1 AS one")).rows[0].one).toBe(1);
  });

  it("reports a query error", async () => {
    await expect(each("SELECT 1/0", [], () => {})).rejects.toThrow(/division by zero/);
  });
});

describe("COPY with inlined parameters", () => {
  it("writes every value back exactly, whatever quotes or backslashes it holds", async () => {
    const nasty = ["it's", "back\\slash", "'; DROP TABLE events; --", "\\'", "$1", "日本語", "E'x'"];
    const statement = `COPY (SELECT v FROM unnest(${inlineParams("$1::text[]", [nasty])}) v) TO STDOUT WITH (FORMAT csv)`;
    let out = "";
    await withCopyOut(db.pool, statement, (data) => pipeline(data, new Writable({ write(c: Buffer, _e, done) { out += c.toString(); done(); } })));
    expect(out.trimEnd().split("\n").map((l) => (l.startsWith('"') ? l.slice(1, -1).replaceAll('""', '"') : l))).toEqual(nasty);
    expect((await db.pool.query("SELECT to_regclass('events') IS NOT NULL AS ok")).rows[0].ok).toBe(true);
  });

  it("writes numbers, times and arrays as typed literals and refuses anything else", () => {
    expect(inlineParams("a = $1 AND b = $2 AND c = ANY($3::text[]) AND d >= $10", [7, "x", ["p", "q"], 0, 0, 0, 0, 0, 0, new Date(Date.UTC(2026, 0, 2))]))
      .toBe("a = 7 AND b = 'x' AND c = ANY(ARRAY['p', 'q']::text[]) AND d >= '2026-01-02T00:00:00.000Z'::timestamptz");
    expect(() => sqlLiteral(1.5)).toThrow(/no SQL literal/);
    expect(() => sqlLiteral({})).toThrow(/no SQL literal/);
    expect(() => inlineParams("$2", [1])).toThrow(/no value for \$2/);
  });
});
