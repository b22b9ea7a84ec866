import { signCheckpoint, type Checkpoint } from "../integrity/checkpoint-note.ts";
import type { NoteSigner } from "../integrity/signing-key.ts";
import { treeRoot } from "../integrity/merkle.ts";
import { readAppendHead } from "./event-store.ts";
import { inTransaction, type Pool, type Queryable } from "./pool.ts";

export interface StoredCheckpoint extends Checkpoint {
  keyId: string;
  note: string;
}

interface CheckpointRow {
  tenant: string;
  seq: number;
  hash: string;
  time: Date;
  key_id: string;
  note: string;
  root: string | null;
}

const toCheckpoint = (r: CheckpointRow): StoredCheckpoint => ({
  tenant: r.tenant, seq: Number(r.seq), hash: r.hash, ...(r.root === null ? {} : { root: r.root }), time: r.time.toISOString(), keyId: r.key_id, note: r.note,
});

const checkpointColumns = "tenant, seq, hash, root, time, key_id, note";

/** Per-tenant advisory lock namespace, so that one replica at a time checkpoints a tenant. */
const checkpointLockSpace = 0x636b7074;

export interface CheckpointPolicy {
  everyEvents: number;
  everySeconds: number;
}

/**
 * Signs a checkpoint for every tenant whose head has moved past its last checkpoint by `everyEvents`, or whose
 * oldest uncheckpointed event is `everySeconds` old (`force` ignores both). Replicas may run this at once: a
 * per-tenant advisory lock and the (tenant, seq) key mean a head is checkpointed once, and a checkpoint is only
 * ever written for a seq above the last one, so checkpoints never conflict.
 */
export async function signDueCheckpoints(pool: Pool, signer: NoteSigner, logName: string, policy: CheckpointPolicy, force = false): Promise<StoredCheckpoint[]> {
  const due = await pool.query<{ tenant: string }>(
    `SELECT h.tenant FROM chain_heads h
       LEFT JOIN LATERAL (SELECT seq FROM checkpoints c WHERE c.tenant = h.tenant ORDER BY seq DESC LIMIT 1) c ON true
       LEFT JOIN events e ON e.tenant = h.tenant AND e.seq = coalesce(c.seq, 0) + 1
      WHERE h.seq > coalesce(c.seq, 0)
        AND ($1 OR h.seq - coalesce(c.seq, 0) >= $2 OR e.received_at <= now() - make_interval(secs => $3))`,
    [force, policy.everyEvents, policy.everySeconds],
  );
  const signed: StoredCheckpoint[] = [];
  for (const { tenant } of due.rows) {
    const c = await checkpointTenant(pool, signer, logName, tenant);
    if (c) signed.push(c);
  }
  return signed;
}

/** Signs the tenant's head unless another replica holds the tenant's checkpoint lock or it is already signed. */
function checkpointTenant(pool: Pool, signer: NoteSigner, logName: string, tenant: string): Promise<StoredCheckpoint | undefined> {
  return inTransaction(pool, async (client) => {
    const lock = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS ok", [checkpointLockSpace, tenant]);
    if (!lock.rows[0]?.ok) return undefined;
    const head = await readAppendHead(client, tenant);
    const last = (await client.query<{ seq: number }>("SELECT max(seq) AS seq FROM checkpoints WHERE tenant = $1", [tenant])).rows[0];
    if (!head || head.seq <= (last?.seq ?? 0)) return undefined;
    // Until the back-fill job has caught up with the chain, the checkpoint signs the chain head alone.
    const root = head.tree.size === head.seq ? treeRoot(head.tree).toString("hex") : undefined;
    const cp: Checkpoint = { tenant, seq: head.seq, hash: head.hash, ...(root ? { root } : {}), time: new Date().toISOString() };
    const { note } = signCheckpoint(logName, cp, signer);
    await client.query(
      "INSERT INTO checkpoints (tenant, seq, hash, root, time, key_id, note) VALUES ($1, $2, $3, $4, $5, $6, $7)",
      [tenant, cp.seq, cp.hash, root ?? null, cp.time, signer.keyId, note],
    );
    return { ...cp, keyId: signer.keyId, note };
  });
}

export async function listCheckpoints(pool: Pool, tenant: string, limit: number, beforeSeq?: number): Promise<StoredCheckpoint[]> {
  const res = await pool.query<CheckpointRow>(
    `SELECT ${checkpointColumns} FROM checkpoints WHERE tenant = $1 AND ($2::bigint IS NULL OR seq < $2) ORDER BY seq DESC LIMIT $3`,
    [tenant, beforeSeq ?? null, limit],
  );
  return res.rows.map(toCheckpoint);
}

/** A tenant's checkpoints with fromSeq <= seq <= toSeq, oldest first. */
export async function checkpointsBetween(db: Queryable, tenant: string, fromSeq: number, toSeq: number): Promise<StoredCheckpoint[]> {
  const res = await db.query<CheckpointRow>(`SELECT ${checkpointColumns} FROM checkpoints WHERE tenant = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq`, [tenant, fromSeq, toSeq]);
  return res.rows.map(toCheckpoint);
}

/** The newest checkpoint that signs a Merkle root (the default tree size of proofs). */
export async function latestMerkleCheckpoint(db: Queryable, tenant: string): Promise<StoredCheckpoint | undefined> {
  const res = await db.query<CheckpointRow>(`SELECT ${checkpointColumns} FROM checkpoints WHERE tenant = $1 AND root IS NOT NULL ORDER BY seq DESC LIMIT 1`, [tenant]);
  return res.rows.map(toCheckpoint)[0];
}

/** The checkpoints signed at exactly these sizes, by seq. */
export async function checkpointsAt(db: Queryable, tenant: string, seqs: readonly number[]): Promise<Map<number, StoredCheckpoint>> {
  const res = await db.query<CheckpointRow>(`SELECT ${checkpointColumns} FROM checkpoints WHERE tenant = $1 AND seq = ANY($2::bigint[])`, [tenant, seqs]);
  return new Map(res.rows.map((r) => [Number(r.seq), toCheckpoint(r)]));
}
