import { checkpointsAt, type StoredCheckpoint } from "@trailkeeper/core/db/checkpoints.ts";
import { appendToChain, readAppendHead } from "@trailkeeper/core/db/event-store.ts";
import { treeRootsAt } from "@trailkeeper/core/db/merkle-tree.ts";
import { inTransaction, type Pool, type PoolClient, type Queryable } from "@trailkeeper/core/db/pool.ts";
import { toPendingEvent, type ParsedEventInput } from "@trailkeeper/core/events/model.ts";
import { uuidv7 } from "@trailkeeper/core/ids.ts";
import { signCheckpoint } from "@trailkeeper/core/integrity/checkpoint-note.ts";
import type { NoteSigner } from "@trailkeeper/core/integrity/signing-key.ts";
import type { Logger } from "@trailkeeper/core/log.ts";
import { adminActor, appendAuditEvent } from "./audit-events.ts";

/**
 * A retention boundary is rounded down to a multiple of this many events, so that it falls on the edge of a stored
 * 16-leaf Merkle subtree: proofs for the events kept, and roots of trees at least that large, then never need a
 * pruned leaf (docs/adr/0008-partitions-and-retention.md).
 */
export const boundaryAlignment = 16;

/** Most days a retention period may be (100 years): more is a typo, not a policy. */
export const maxRetentionDays = 36_500;

export interface RetentionBoundary {
  /** The tenant's events 1..seq are pruned; verification starts at seq + 1. */
  seq: number;
  /** The chain hash at seq, as the sealing checkpoint signs it. */
  hash: string;
  /** The audit.retention.prune event that records this boundary in the chain. */
  eventId: string;
  prunedAt: string;
}

export interface RetentionState {
  tenant: string;
  retentionDays: number | null;
  legalHold: boolean;
  legalHoldReason: string | null;
  updatedAt: string | null;
  boundary: RetentionBoundary | null;
}

interface BoundaryRow {
  seq: string;
  hash: string;
  event_id: string;
  pruned_at: Date;
}

/** The tenant's latest retention boundary, if it was ever pruned. */
export async function latestBoundary(db: Queryable, tenant: string): Promise<RetentionBoundary | undefined> {
  const row = (await db.query<BoundaryRow>("SELECT seq, hash, event_id, pruned_at FROM retention_boundaries WHERE tenant = $1 ORDER BY seq DESC LIMIT 1", [tenant])).rows[0];
  return row && { seq: Number(row.seq), hash: row.hash, eventId: row.event_id, prunedAt: row.pruned_at.toISOString() };
}

export async function readRetention(db: Queryable, tenant: string): Promise<RetentionState> {
  const row = (await db.query<{ retention_days: number | null; legal_hold: boolean; legal_hold_reason: string | null; updated_at: Date }>(
    "SELECT retention_days, legal_hold, legal_hold_reason, updated_at FROM tenant_retention WHERE tenant = $1",
    [tenant],
  )).rows[0];
  return {
    tenant,
    retentionDays: row?.retention_days ?? null,
    legalHold: row?.legal_hold ?? false,
    legalHoldReason: row?.legal_hold_reason ?? null,
    updatedAt: row?.updated_at.toISOString() ?? null,
    boundary: (await latestBoundary(db, tenant)) ?? null,
  };
}

const tenantResource = (tenant: string) => ({ type: "tenant", id: tenant });

async function lockSettings(client: PoolClient, tenant: string): Promise<{ retention_days: number | null; legal_hold: boolean; legal_hold_reason: string | null }> {
  await client.query("INSERT INTO tenant_retention (tenant) VALUES ($1) ON CONFLICT DO NOTHING", [tenant]);
  return (await client.query<{ retention_days: number | null; legal_hold: boolean; legal_hold_reason: string | null }>(
    "SELECT retention_days, legal_hold, legal_hold_reason FROM tenant_retention WHERE tenant = $1 FOR UPDATE",
    [tenant],
  )).rows[0]!;
}

/** Sets (or with null, removes) the tenant's retention period, recorded as audit.retention.update in its chain. */
export async function setRetentionDays(pool: Pool, tenant: string, days: number | null): Promise<RetentionState> {
  await inTransaction(pool, async (client) => {
    const before = await lockSettings(client, tenant);
    await client.query("UPDATE tenant_retention SET retention_days = $2, updated_at = now() WHERE tenant = $1", [tenant, days]);
    await appendAuditEvent(client, tenant, {
      actor: { ...adminActor }, action: "audit.retention.update", resource: tenantResource(tenant), outcome: "success",
      details: { retentionDays: days, previousRetentionDays: before.retention_days },
    });
  });
  return readRetention(pool, tenant);
}

/** Places or releases a legal hold, recorded as audit.legal_hold.place / audit.legal_hold.release. */
export async function setLegalHold(pool: Pool, tenant: string, hold: boolean, reason: string | null): Promise<RetentionState> {
  await inTransaction(pool, async (client) => {
    const before = await lockSettings(client, tenant);
    await client.query("UPDATE tenant_retention SET legal_hold = $2, legal_hold_reason = $3, updated_at = now() WHERE tenant = $1", [tenant, hold, hold ? reason : null]);
    await appendAuditEvent(client, tenant, {
      actor: { ...adminActor }, action: hold ? "audit.legal_hold.place" : "audit.legal_hold.release", resource: tenantResource(tenant), outcome: "success",
      details: { reason, wasHeld: before.legal_hold },
    });
  });
  return readRetention(pool, tenant);
}

export type PruneSkip = "no_retention" | "legal_hold" | "nothing_expired";

export interface PrunePlan {
  /** Events 1..through go. */
  through: number;
  previous: number;
  /** Events older than this are past retention. */
  cutoff: Date;
  /** The end of the newest whole partition range before the cutoff: every pruned event was received before it. */
  rangeEnd: Date;
}

/**
 * What a prune would remove now. Only whole partition ranges that ended before the cutoff expire, and only the
 * tenant's leading events in them: the boundary stops before the first event received after those ranges (or held
 * in the default partition), before the end of the Merkle tree, and on a multiple of boundaryAlignment.
 */
export async function planPrune(db: Queryable, tenant: string, now: Date): Promise<PrunePlan | PruneSkip> {
  const settings = await readRetention(db, tenant);
  if (settings.retentionDays === null) return "no_retention";
  if (settings.legalHold) return "legal_hold";
  const cutoff = new Date(now.getTime() - settings.retentionDays * 86_400_000);
  const end = (await db.query<{ end: Date | null }>("SELECT max(range_end) AS end FROM event_partitions WHERE range_end <= $1", [cutoff])).rows[0]?.end;
  const head = await readAppendHead(db, tenant);
  if (!end || !head) return "nothing_expired";
  const firstKept = (await db.query<{ seq: string | null }>(
    `SELECT least((SELECT min(seq) FROM events WHERE tenant = $1 AND received_at >= $2),
                  (SELECT min(seq) FROM events_default WHERE tenant = $1)) AS seq`,
    [tenant, end],
  )).rows[0]?.seq;
  const last = Math.min(firstKept === null || firstKept === undefined ? head.seq : Number(firstKept) - 1, head.tree.size);
  const through = last - (last % boundaryAlignment);
  const previous = settings.boundary?.seq ?? 0;
  if (through <= previous) return "nothing_expired";
  return { through, previous, cutoff, rangeEnd: end };
}

/** Namespace of the per-tenant advisory lock that serialises prunes across replicas. */
const pruneLockSpace = 0x7072756e;

export interface PruneResult {
  tenant: string;
  skipped?: PruneSkip;
  /** The boundary after this prune (unchanged when skipped). */
  prunedThrough: number;
  /** Rows this call deleted (a resumed prune deletes what an interrupted one left). */
  removed: number;
  checkpoint?: StoredCheckpoint;
}

/** The signed checkpoint at `seq`, signing one for that past size when none exists. */
async function sealingCheckpoint(client: PoolClient, signer: NoteSigner, logName: string, tenant: string, seq: number): Promise<StoredCheckpoint> {
  const existing = (await checkpointsAt(client, tenant, [seq])).get(seq);
  if (existing) return existing;
  const hash = (await client.query<{ hash: string }>("SELECT hash FROM events WHERE tenant = $1 AND seq = $2", [tenant, seq])).rows[0]!.hash;
  const [root] = await treeRootsAt(client, tenant, [seq]);
  const cp = { tenant, seq, hash, root: root!.toString("hex"), time: new Date().toISOString() };
  const { note } = signCheckpoint(logName, cp, signer);
  await client.query("INSERT INTO checkpoints (tenant, seq, hash, root, time, key_id, note) VALUES ($1, $2, $3, $4, $5, $6, $7)", [tenant, seq, hash, cp.root, cp.time, signer.keyId, note]);
  return { ...cp, keyId: signer.keyId, note };
}

/**
 * The first half of a prune, in one transaction: a signed checkpoint seals the boundary, an audit.retention.prune
 * event records it in the chain, and the boundary row is written. Nothing is deleted yet.
 */
export function sealBoundary(pool: Pool, signer: NoteSigner, logName: string, tenant: string, now = new Date()): Promise<{ skipped: PruneSkip } | { checkpoint: StoredCheckpoint }> {
  return inTransaction(pool, async (client) => {
    await client.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [pruneLockSpace, tenant]);
    const plan = await planPrune(client, tenant, now);
    if (typeof plan === "string") return { skipped: plan };
    const checkpoint = await sealingCheckpoint(client, signer, logName, tenant, plan.through);
    const eventId = uuidv7();
    const input: ParsedEventInput = {
      actor: { id: "retention", name: "Retention", type: "system" }, action: "audit.retention.prune", resource: tenantResource(tenant), outcome: "success",
      details: {
        prunedThrough: plan.through, previousBoundary: plan.previous, events: plan.through - plan.previous,
        boundaryHash: checkpoint.hash, ...(checkpoint.root ? { boundaryRoot: checkpoint.root } : {}),
        cutoff: plan.cutoff.toISOString(), rangeEnd: plan.rangeEnd.toISOString(),
      },
    };
    await appendToChain(client, tenant, [toPendingEvent(input, tenant, eventId, new Date())]);
    await client.query("INSERT INTO retention_boundaries (tenant, seq, hash, event_id) VALUES ($1, $2, $3, $4)", [tenant, plan.through, checkpoint.hash, eventId]);
    return { checkpoint };
  });
}

/**
 * The second half: the pruning function deletes the tenant's rows at or below its latest boundary (those an
 * interrupted prune left too) and drops partitions left empty before the retention cutoff. Nothing under legal hold.
 */
export async function deleteThroughBoundary(pool: Pool, tenant: string, now = new Date()): Promise<{ prunedThrough: number; removed: number }> {
  const state = await readRetention(pool, tenant);
  const through = state.boundary?.seq ?? 0;
  if (through === 0 || state.legalHold) return { prunedThrough: through, removed: 0 };
  // Without a retention period (removed since the boundary was sealed) no partition counts as expired.
  const cutoff = state.retentionDays === null ? new Date(0) : new Date(now.getTime() - state.retentionDays * 86_400_000);
  const res = await pool.query<{ n: string }>("SELECT trailkeeper_prune_events($1, $2, $3) AS n", [tenant, through, cutoff]);
  return { prunedThrough: through, removed: Number(res.rows[0]!.n) };
}

/** Prunes the tenant's expired events: seals the boundary, then deletes below it. */
export async function pruneTenant(pool: Pool, signer: NoteSigner, logName: string, tenant: string, now = new Date()): Promise<PruneResult> {
  const sealed = await sealBoundary(pool, signer, logName, tenant, now);
  const done = await deleteThroughBoundary(pool, tenant, now);
  return { tenant, ...done, ...sealed };
}

/** Creates the event partitions from last month to `monthsAhead` months from now (idempotent). */
export async function ensureEventPartitions(db: Queryable, now = new Date(), monthsAhead = 3): Promise<string[]> {
  const res = await db.query<{ name: string }>(
    "SELECT trailkeeper_ensure_event_partitions($1::timestamptz - interval '1 month', $1::timestamptz + make_interval(months => $2)) AS name",
    [now, monthsAhead],
  );
  return res.rows.map((r) => r.name);
}

/** Namespace of the advisory lock that lets one replica at a time run the maintenance round. */
const maintenanceLockSpace = 0x72746e6d;

/**
 * The retention job: each round creates partitions ahead, then prunes every tenant that has a retention period
 * (and finishes interrupted prunes). One replica at a time runs a round; each tenant's failure is logged alone.
 */
export class RetentionJob {
  readonly #pool: Pool;
  readonly #signer: NoteSigner;
  readonly #logName: string;
  readonly #log: Logger;
  readonly #everyMs: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> = Promise.resolve();

  constructor(opts: { pool: Pool; signer: NoteSigner; logName: string; log: Logger; everySeconds: number }) {
    this.#pool = opts.pool;
    this.#signer = opts.signer;
    this.#logName = opts.logName;
    this.#log = opts.log;
    this.#everyMs = opts.everySeconds * 1000;
  }

  start(): void {
    void this.runOnce();
    this.#timer = setInterval(() => void this.runOnce(), this.#everyMs);
    this.#timer.unref();
  }

  runOnce(): Promise<unknown> {
    this.#running = this.#running.then(() => this.#round().catch((err: unknown) => this.#log.warn("retention round failed", { err })));
    return this.#running;
  }

  async #round(): Promise<void> {
    const client = await this.#pool.connect();
    try {
      const lock = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1, 0) AS ok", [maintenanceLockSpace]);
      if (!lock.rows[0]?.ok) return;
      try {
        const created = await ensureEventPartitions(client);
        if (created.length) this.#log.info("event partitions created", { partitions: created });
      } finally {
        await client.query("SELECT pg_advisory_unlock($1, 0)", [maintenanceLockSpace]);
      }
    } finally {
      client.release();
    }
    const tenants = await this.#pool.query<{ tenant: string }>(
      `SELECT tenant FROM tenant_retention WHERE retention_days IS NOT NULL AND NOT legal_hold
       UNION SELECT b.tenant FROM retention_boundaries b JOIN tenant_retention r USING (tenant) WHERE NOT r.legal_hold ORDER BY 1`,
    );
    for (const { tenant } of tenants.rows) {
      try {
        const r = await pruneTenant(this.#pool, this.#signer, this.#logName, tenant);
        if (r.removed > 0) this.#log.info("events pruned", { tenant, prunedThrough: r.prunedThrough, removed: r.removed });
      } catch (err) {
        this.#log.warn("pruning failed", { tenant, err });
      }
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }
}
