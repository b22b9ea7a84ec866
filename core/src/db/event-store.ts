import { extendChain, genesisHash, type ChainHead } from "../events/chain.ts";
import type { PendingEvent, StoredEvent } from "../events/model.ts";
import { eventColumnArrayTypes, eventColumns, eventToRow } from "./event-rows.ts";
import type { PoolClient } from "./pool.ts";

/** Channel on which every append is announced (payload: `<tenant>:<head seq>`), for real-time forwarding. */
export const appendChannel = "trailkeeper_events";

export interface AppendedRef {
  id: string;
  seq: number;
  hash: string;
  duplicate: boolean;
}

export class UnknownTenantError extends Error {
  readonly code = "unknown_tenant";
  constructor(tenant: string) {
    super(`tenant ${tenant} does not exist`);
  }
}

export async function lockChainHead(client: PoolClient, tenant: string): Promise<ChainHead> {
  const res = await client.query<{ seq: number; hash: string }>(
    "SELECT seq, hash FROM chain_heads WHERE tenant = $1 FOR UPDATE",
    [tenant],
  );
  const row = res.rows[0];
  if (!row) throw new UnknownTenantError(tenant);
  return { seq: Number(row.seq), hash: row.hash };
}

/**
 * Appends events to a tenant's chain inside the caller's transaction. Events whose id is already stored
 * (or appears earlier in `pending`) are not appended again; their stored reference is returned with
 * `duplicate: true`. Results are in input order.
 */
export async function appendToChain(client: PoolClient, tenant: string, pending: readonly PendingEvent[]): Promise<AppendedRef[]> {
  const head = await lockChainHead(client, tenant);
  const ids = [...new Set(pending.map((p) => p.id))];
  const existing = await client.query<{ id: string; seq: number; hash: string }>(
    "SELECT id, seq, hash FROM events WHERE tenant = $1 AND id = ANY($2::uuid[])",
    [tenant, ids],
  );
  const stored = new Map(existing.rows.map((r) => [r.id, { id: r.id, seq: Number(r.seq), hash: r.hash }]));
  // Each input maps to a stored row or to its first occurrence among the fresh events.
  const fresh: PendingEvent[] = [];
  const freshIndex = new Map<string, number>();
  const plan = pending.map((p): { ref: ChainHead & { id: string }; duplicate: boolean } | { index: number; duplicate: boolean } => {
    const ref = stored.get(p.id);
    if (ref) return { ref, duplicate: true };
    const first = freshIndex.get(p.id);
    if (first !== undefined) return { index: first, duplicate: true };
    freshIndex.set(p.id, fresh.length);
    fresh.push(p);
    return { index: fresh.length - 1, duplicate: false };
  });
  const { events, head: newHead } = extendChain(head, fresh);
  if (events.length > 0) {
    await insertEvents(client, events);
    await client.query("UPDATE chain_heads SET seq = $2, hash = $3 WHERE tenant = $1", [tenant, newHead.seq, newHead.hash]);
    await client.query("SELECT pg_notify($1, $2)", [appendChannel, `${tenant}:${newHead.seq}`]);
  }
  return plan.map((step) => {
    const ref = "ref" in step ? step.ref : events[step.index]!;
    return { id: ref.id, seq: ref.seq, hash: ref.hash, duplicate: step.duplicate };
  });
}

async function insertEvents(client: PoolClient, events: readonly StoredEvent[]): Promise<void> {
  const columns = eventColumns.map(() => [] as unknown[]);
  for (const e of events) eventToRow(e).forEach((v, i) => columns[i]!.push(v));
  const params = eventColumnArrayTypes.map((t, i) => `$${i + 1}::${t}`).join(", ");
  await client.query(`INSERT INTO events (${eventColumns.join(", ")}) SELECT * FROM unnest(${params})`, columns);
}

/** Creates a tenant and its empty chain head; returns false when it already existed. */
export async function createTenant(client: PoolClient, tenant: string): Promise<boolean> {
  const res = await client.query("INSERT INTO tenants (id) VALUES ($1) ON CONFLICT DO NOTHING", [tenant]);
  if (res.rowCount === 0) return false;
  await client.query("INSERT INTO chain_heads (tenant, seq, hash) VALUES ($1, 0, $2)", [tenant, genesisHash]);
  return true;
}
