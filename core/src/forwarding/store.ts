import { eventSelectList, rowToEvent, type EventRow } from "../db/event-rows.ts";
import { readChainHead } from "../db/event-store.ts";
import { inTransaction, type Pool } from "../db/pool.ts";
import type { CategoryId } from "../events/categories.ts";
import type { StoredEvent } from "../events/model.ts";
import { actionCondition } from "../search/filters.ts";

export interface ForwardFilter {
  categories?: readonly CategoryId[];
  actions?: readonly string[];
}

export interface CursorState {
  cursorSeq: number;
  delivered: number;
  failedAttempts: number;
  deadLettered: number;
  lastDeliveredAt: string | null;
  lastError: string | null;
}

export class CursorMovedError extends Error {
  constructor(uid: string) {
    super(`the delivery cursor of ${uid} was moved or taken over by another process; stopping to avoid going backwards`);
  }
}

const headSeq = async (pool: Pool, tenant: string) => (await readChainHead(pool, tenant))?.seq ?? 0;

/**
 * Creates the cursor of a new destination at the tenant's current head (forwarding is real-time; history is
 * sent with the replay annotation), or returns the existing one.
 */
export async function ensureCursor(pool: Pool, uid: string, tenant: string, resource: string): Promise<CursorState> {
  await pool.query(
    `INSERT INTO delivery_cursors (destination_uid, tenant, resource, cursor_seq)
     VALUES ($1, $2, $3, coalesce((SELECT seq FROM chain_heads WHERE tenant = $2), 0)) ON CONFLICT DO NOTHING`,
    [uid, tenant, resource],
  );
  return (await loadCursor(pool, uid))!;
}

export async function loadCursor(pool: Pool, uid: string): Promise<CursorState | undefined> {
  const r = (await pool.query<{ cursor_seq: number; delivered: number; failed_attempts: number; dead_lettered: number; last_delivered_at: Date | null; last_error: string | null }>(
    "SELECT cursor_seq, delivered, failed_attempts, dead_lettered, last_delivered_at, last_error FROM delivery_cursors WHERE destination_uid = $1",
    [uid],
  )).rows[0];
  if (!r) return undefined;
  return {
    cursorSeq: Number(r.cursor_seq), delivered: Number(r.delivered), failedAttempts: Number(r.failed_attempts),
    deadLettered: Number(r.dead_lettered), lastDeliveredAt: r.last_delivered_at?.toISOString() ?? null, lastError: r.last_error,
  };
}

/**
 * The next events after `afterSeq` that pass the filter, up to `limit`, and how far the scan reached: when fewer
 * than `limit` events match, every event up to the head was looked at, so the cursor may move to the head.
 */
export async function readAfter(pool: Pool, tenant: string, afterSeq: number, filter: ForwardFilter, limit: number): Promise<{ events: StoredEvent[]; scannedThrough: number; head: number }> {
  const head = await headSeq(pool, tenant);
  if (head <= afterSeq) return { events: [], scannedThrough: afterSeq, head };
  const values: unknown[] = [tenant, afterSeq, head];
  const add = (v: unknown) => {
    values.push(v);
    return `$${values.length}`;
  };
  const where = ["tenant = $1", "seq > $2", "seq <= $3"];
  if (filter.categories?.length) where.push(`category = ANY(${add(filter.categories)}::text[])`);
  if (filter.actions?.length) where.push(actionCondition(filter.actions, add));
  const rows = (await pool.query<EventRow>(`SELECT ${eventSelectList} FROM events WHERE ${where.join(" AND ")} ORDER BY seq LIMIT ${add(limit)}`, values)).rows;
  const events = rows.map(rowToEvent);
  return { events, scannedThrough: events.length === limit ? events.at(-1)!.seq : head, head };
}

export interface Progress {
  fromSeq: number;
  toSeq: number;
  delivered: number;
  deadLetters: { seq: number; eventId: string; reason: string }[];
  /** The replica that holds the cursor (acquireCursor); the commit fails once another one holds it. */
  owner?: string | undefined;
}

/**
 * Moves the cursor forward (compare-and-set, so a stale leader cannot move it back; with `owner`, only while that
 * replica still holds it) and records dead letters.
 */
export async function commitProgress(pool: Pool, uid: string, tenant: string, p: Progress): Promise<void> {
  await inTransaction(pool, async (c) => {
    const res = await c.query(
      `UPDATE delivery_cursors SET cursor_seq = $3, delivered = delivered + $4, dead_lettered = dead_lettered + $5,
              last_delivered_at = CASE WHEN $4 > 0 THEN now() ELSE last_delivered_at END, updated_at = now()
        WHERE destination_uid = $1 AND cursor_seq = $2 AND ($6::text IS NULL OR owner = $6)`,
      [uid, p.fromSeq, p.toSeq, p.delivered, p.deadLetters.length, p.owner ?? null],
    );
    if (res.rowCount !== 1) throw new CursorMovedError(uid);
    if (p.deadLetters.length === 0) return;
    await c.query(
      `INSERT INTO dead_letters (destination_uid, tenant, seq, event_id, reason)
       SELECT $1, $2, * FROM unnest($3::bigint[], $4::uuid[], $5::text[]) ON CONFLICT DO NOTHING`,
      [uid, tenant, p.deadLetters.map((d) => d.seq), p.deadLetters.map((d) => d.eventId), p.deadLetters.map((d) => d.reason.slice(0, 2000))],
    );
  });
}

/**
 * Takes the cursor of `uid` for `owner` (creating it at the head when new) for `leaseMs`, measured by the database's
 * clock: granted when nobody holds it, `owner` already does, or the holder's lease ran out. Returns whether granted.
 */
export async function acquireCursor(pool: Pool, uid: string, tenant: string, resource: string, owner: string, leaseMs: number): Promise<boolean> {
  await ensureCursor(pool, uid, tenant, resource);
  const res = await pool.query(
    `UPDATE delivery_cursors SET owner = $2, owner_expires_at = now() + $3 * interval '1 millisecond'
      WHERE destination_uid = $1 AND (owner IS NULL OR owner = $2 OR owner_expires_at <= now())`,
    [uid, owner, leaseMs],
  );
  return res.rowCount === 1;
}

/** Extends `owner`'s hold on each of `uids`; returns those it still holds (a lost one must stop forwarding). */
export async function renewCursors(pool: Pool, owner: string, uids: readonly string[], leaseMs: number): Promise<Set<string>> {
  if (uids.length === 0) return new Set();
  const res = await pool.query<{ destination_uid: string }>(
    `UPDATE delivery_cursors SET owner_expires_at = now() + $3 * interval '1 millisecond'
      WHERE destination_uid = ANY($1::text[]) AND owner = $2 RETURNING destination_uid`,
    [uids, owner, leaseMs],
  );
  return new Set(res.rows.map((r) => r.destination_uid));
}

/** Gives the cursor up (a clean stop or a move to another replica), so its next owner need not wait for expiry. */
export async function releaseCursor(pool: Pool, uid: string, owner: string): Promise<void> {
  await pool.query("UPDATE delivery_cursors SET owner = NULL, owner_expires_at = NULL WHERE destination_uid = $1 AND owner = $2", [uid, owner]);
}

export async function recordFailure(pool: Pool, uid: string, error: string): Promise<void> {
  await pool.query("UPDATE delivery_cursors SET failed_attempts = failed_attempts + 1, last_error = $2, updated_at = now() WHERE destination_uid = $1", [uid, error.slice(0, 2000)]);
}

/** Replay: the next delivery starts after `seq` (so `seq + 1` is sent first). */
export async function rewindCursor(pool: Pool, uid: string, seq: number): Promise<void> {
  await pool.query("UPDATE delivery_cursors SET cursor_seq = $2, updated_at = now() WHERE destination_uid = $1", [uid, Math.max(0, seq)]);
}

/**
 * Applies a replay request once: when `token` differs from the one last applied, rewinds the cursor to `seq`
 * and remembers the token. Returns whether it rewound. Creates the cursor first when needed.
 */
export async function applyReplay(pool: Pool, uid: string, tenant: string, resource: string, token: string, seqOf: () => Promise<number>): Promise<boolean> {
  await ensureCursor(pool, uid, tenant, resource);
  const applied = (await pool.query<{ applied_replay: string | null }>("SELECT applied_replay FROM delivery_cursors WHERE destination_uid = $1", [uid])).rows[0]?.applied_replay;
  if (applied === token) return false;
  await pool.query("UPDATE delivery_cursors SET cursor_seq = $2, applied_replay = $3, updated_at = now() WHERE destination_uid = $1", [uid, Math.max(0, await seqOf()), token]);
  return true;
}

/** The seq to rewind to so that delivery restarts with the first event received at or after `time`. */
export async function seqBefore(pool: Pool, tenant: string, time: Date): Promise<number> {
  const r = await pool.query<{ seq: number }>("SELECT coalesce(min(seq), (SELECT seq FROM chain_heads WHERE tenant = $1) + 1, 1) - 1 AS seq FROM events WHERE tenant = $1 AND received_at >= $2", [tenant, time]);
  return Number(r.rows[0]?.seq ?? 0);
}

export async function deleteCursor(pool: Pool, uid: string): Promise<void> {
  await pool.query("DELETE FROM delivery_cursors WHERE destination_uid = $1", [uid]);
}

/** When the event at `seq` arrived; undefined when there is none. */
export async function receivedAtOf(pool: Pool, tenant: string, seq: number): Promise<Date | undefined> {
  return (await pool.query<{ received_at: Date }>("SELECT received_at FROM events WHERE tenant = $1 AND seq = $2", [tenant, seq])).rows[0]?.received_at;
}

export interface DeadLetter {
  id: number;
  seq: number;
  eventId: string;
  reason: string;
  createdAt: string;
}

interface DeadLetterRow {
  id: string;
  seq: string;
  event_id: string;
  reason: string;
  created_at: Date;
}

const toDeadLetter = (r: DeadLetterRow): DeadLetter => ({ id: Number(r.id), seq: Number(r.seq), eventId: r.event_id, reason: r.reason, createdAt: r.created_at.toISOString() });

/** The most recent dead letter of a destination, for status.delivery.lastError. */
export async function latestDeadLetter(pool: Pool, uid: string): Promise<DeadLetter | undefined> {
  const r = await pool.query<DeadLetterRow>("SELECT id, seq, event_id, reason, created_at FROM dead_letters WHERE destination_uid = $1 ORDER BY id DESC LIMIT 1", [uid]);
  return r.rows[0] && toDeadLetter(r.rows[0]);
}

/**
 * One page of a destination's dead letters, newest first, of one tenant only (the uid alone is not trusted to
 * belong to the caller). `beforeId` is the `id` of the last row of the previous page.
 */
export async function listDeadLetters(pool: Pool, q: { uid: string; tenant: string; limit: number; beforeId?: number | undefined }): Promise<DeadLetter[]> {
  const r = await pool.query<DeadLetterRow>(
    `SELECT id, seq, event_id, reason, created_at FROM dead_letters
      WHERE destination_uid = $1 AND tenant = $2 AND ($3::bigint IS NULL OR id < $3) ORDER BY id DESC LIMIT $4`,
    [q.uid, q.tenant, q.beforeId ?? null, q.limit],
  );
  return r.rows.map(toDeadLetter);
}
