import type { StoredCheckpoint } from "./checkpoints.ts";
import type { Queryable } from "./pool.ts";

/** The durable cursor of checkpoint publication (migration 0011): every checkpoint up to it has been published. */
export async function publishedSeq(db: Queryable, target: string, tenant: string): Promise<number> {
  const res = await db.query<{ published_seq: string }>("SELECT published_seq FROM checkpoint_publications WHERE target = $1 AND tenant = $2", [target, tenant]);
  return Number(res.rows[0]?.published_seq ?? 0);
}

/** Moves the cursor forward (never back: two leaders for a moment must not undo each other's progress). */
export async function advancePublished(db: Queryable, p: { target: string; tenant: string; resource: string; seq: number; error?: string }): Promise<void> {
  await db.query(
    `INSERT INTO checkpoint_publications (target, tenant, resource, published_seq, last_error) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (target, tenant) DO UPDATE SET published_seq = greatest(checkpoint_publications.published_seq, excluded.published_seq),
       resource = excluded.resource, last_error = excluded.last_error, updated_at = now()`,
    [p.target, p.tenant, p.resource, p.seq, p.error ?? null],
  );
}

/** The tenant's checkpoints after `afterSeq`, oldest first. */
export async function checkpointsAfter(db: Queryable, tenant: string, afterSeq: number, limit: number): Promise<StoredCheckpoint[]> {
  const res = await db.query<{ tenant: string; seq: string; hash: string; root: string | null; time: Date; key_id: string; note: string }>(
    "SELECT tenant, seq, hash, root, time, key_id, note FROM checkpoints WHERE tenant = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    [tenant, afterSeq, limit],
  );
  return res.rows.map((r) => ({
    tenant: r.tenant, seq: Number(r.seq), hash: r.hash, ...(r.root === null ? {} : { root: r.root }), time: r.time.toISOString(), keyId: r.key_id, note: r.note,
  }));
}

/** The cursor, or undefined when the target never published for the tenant. */
export async function publicationCursor(db: Queryable, target: string, tenant: string): Promise<number | undefined> {
  const res = await db.query<{ published_seq: string }>("SELECT published_seq FROM checkpoint_publications WHERE target = $1 AND tenant = $2", [target, tenant]);
  return res.rows[0] === undefined ? undefined : Number(res.rows[0].published_seq);
}

/** The seq of the checkpoint before the tenant's latest (0 when it has at most one). */
export async function seqBeforeLatestCheckpoint(db: Queryable, tenant: string): Promise<number> {
  const res = await db.query<{ seq: string }>("SELECT seq FROM checkpoints WHERE tenant = $1 ORDER BY seq DESC OFFSET 1 LIMIT 1", [tenant]);
  return Number(res.rows[0]?.seq ?? 0);
}
