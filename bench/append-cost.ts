/**
 * What the append statement costs PostgreSQL per event, and what the Merkle tree adds to it (issue 15: ingest cost
 * rises by at most 10 %), measured in one run on one embedded PostgreSQL by the same optimistic append the server
 * uses for groups of single events (appendAtHead, BENCH_APPEND_GROUP events a statement, default 31 as the
 * single-event phase of bench/ingest.ts groups them), one statement at a time, so the backend's CPU per event is
 * the measure (machine load moves it less than rates):
 *
 * - tree: the shipped append (chain head, Merkle frontier and completed nodes, events);
 * - no tree: the same statement for a tenant whose tree waits for the back-fill job (the frontier is left alone:
 *   an empty frontier is written and no node is inserted), the cost of the statement without the tree's part;
 * - unprepared: the shipped append sent as an unnamed statement, parsed and planned on every call, as before the
 *   append became a named prepared statement.
 *
 * The variants take turns for BENCH_APPEND_ROUNDS rounds (default 6) of BENCH_APPEND_CALLS statements (default 300),
 * so that the growing table and the machine's drift weigh on each alike. Then the tree's share of the server's
 * work: extending the tree (leaf and node hashes, the frontier's encoding) per event, in process.
 * `node bench/append-cost.ts`. Not a timed test.
 */
import { createHash } from "node:crypto";
import { appendAtHead, createTenant, readAppendHead, type AppendHead } from "../core/src/db/event-store.ts";
import type { Pool } from "../core/src/db/pool.ts";
import { eventInputSchema, toPendingEvent, type PendingEvent } from "../core/src/events/model.ts";
import { uuidv7 } from "../core/src/ids.ts";
import { encodeFrontier, extendTree, leafHash, type TreeState } from "../core/src/integrity/merkle.ts";
import { cpuDelta, cpuSnapshot, machineLoad } from "./lib/cpu.ts";
import { freshBenchDatabase } from "./lib/database.ts";
import { makeEventInputs } from "./lib/events.ts";
import { intEnv, markdownTable, table } from "./lib/stats.ts";

const group = intEnv("BENCH_APPEND_GROUP", 31);
const calls = intEnv("BENCH_APPEND_CALLS", 300);
const rounds = intEnv("BENCH_APPEND_ROUNDS", 6);
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);

type Variant = "tree" | "no tree" | "unprepared";
const variants: readonly Variant[] = ["tree", "no tree", "unprepared"];

const db = await freshBenchDatabase();
try {
  if (db.postmasterPid === undefined) throw new Error("this benchmark reads PostgreSQL's CPU time from /proc: run it on the embedded server (no DATABASE_URL)");
  const load0 = machineLoad().load1;
  // The statement as the server sends it, or (unprepared) with its name dropped, so it is parsed and planned each time.
  const unnamed = {
    query: (config: { text: string; values: unknown[] }) => db.pool.query(config.text, config.values),
  } as unknown as Pool;
  const inputs = makeEventInputs(group * calls, 11).map((e) => eventInputSchema.parse(e));
  const tenantOf: Record<Variant, string> = { tree: "with-tree", "no tree": "tree-waiting", unprepared: "unprepared" };
  const client = await db.pool.connect();
  for (const t of Object.values(tenantOf)) await createTenant(client, t);
  client.release();
  const heads = new Map<string, AppendHead>();
  for (const t of Object.values(tenantOf)) heads.set(t, (await readAppendHead(db.pool, t))!);
  const append = async (pool: Pool, tenant: string, events: PendingEvent[]) => {
    const done = await appendAtHead(pool, tenant, heads.get(tenant)!, events);
    if (!done) throw new Error(`the head of ${tenant} moved: nothing else may append during the benchmark`);
    heads.set(tenant, done.head);
  };
  const pending = (tenant: string, from: number, count: number) => {
    const now = new Date();
    return inputs.slice(from, from + count).map((e) => toPendingEvent(e, tenant, uuidv7(now.getTime()), now));
  };
  // A tenant whose tree waits for the back-fill job (as after an upgrade): one event, then its tree emptied.
  const waiting = tenantOf["no tree"];
  await append(db.pool, waiting, pending(waiting, 0, 1));
  await db.pool.query("UPDATE chain_heads SET tree_size = 0, tree_frontier = ''::bytea WHERE tenant = $1", [waiting]);
  heads.set(waiting, (await readAppendHead(db.pool, waiting))!);

  const perEvent = new Map<Variant, number[]>(variants.map((v) => [v, []]));
  for (let round = 0; round < rounds; round++) {
    // Each round in another order, so that no variant always follows the same one.
    const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
    for (const variant of order) {
      const tenant = tenantOf[variant];
      const events = pending(tenant, 0, group * calls);
      const cpu0 = cpuSnapshot(undefined, db.postmasterPid);
      for (let i = 0; i < calls; i++) await append(variant === "unprepared" ? unnamed : db.pool, tenant, events.slice(i * group, (i + 1) * group));
      const cpu = cpuDelta(cpu0, cpuSnapshot(undefined, db.postmasterPid));
      perEvent.get(variant)!.push((cpu.postgres * 1e6) / (group * calls));
    }
    log(`round ${round + 1} of ${rounds}`);
  }
  const treeSizes = await db.pool.query<{ tenant: string; seq: string; tree_size: string }>("SELECT tenant, seq, tree_size FROM chain_heads ORDER BY tenant");
  for (const r of treeSizes.rows) {
    const expectTree = r.tenant !== waiting;
    if (expectTree !== (r.tree_size === r.seq)) throw new Error(`tenant ${r.tenant}: tree size ${r.tree_size} at seq ${r.seq}`);
  }

  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const base = mean(perEvent.get("no tree")!);
  const header = ["append statement", "PostgreSQL CPU µs/event, each round", "mean", "× no tree"];
  const rows = variants.map((v) => [v, perEvent.get(v)!.map((x) => x.toFixed(0)).join(" "), mean(perEvent.get(v)!).toFixed(1), `${(mean(perEvent.get(v)!) / base).toFixed(3)}×`]);

  // The server's share: extending the tree for groups of `group` leaves, as growTree does.
  const hashes = Array.from({ length: 100_000 }, (_, i) => createHash("sha256").update(`event ${i}`).digest("hex"));
  const serverRuns: number[] = [];
  for (let run = 0; run < 5; run++) {
    let tree: TreeState = { size: 0, frontier: [] };
    const t0 = performance.now();
    for (let i = 0; i < hashes.length; i += group) {
      tree = extendTree(tree, hashes.slice(i, i + group).map((h) => leafHash(h))).tree;
      encodeFrontier(tree.frontier);
    }
    serverRuns.push(((performance.now() - t0) * 1000) / hashes.length);
  }
  const serverTree = Math.min(...serverRuns);

  process.stdout.write(`\nAppend statements of ${group} events, ${calls} a round, ${rounds} rounds; load average ${load0} before, ${machineLoad().load1} after\n${table(header, rows)}\n`);
  process.stdout.write(`\nServer CPU to extend the Merkle tree: ${serverTree.toFixed(2)} µs/event (best of 5 runs over ${hashes.length.toLocaleString("en")} events)\n`);
  process.stdout.write(`\nMarkdown:\n\n${markdownTable(header, rows)}\n`);
} finally {
  await db.close();
}
