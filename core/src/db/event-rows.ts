import { canonicalJson, withStoredText } from "../events/canonical.ts";
import type { CategoryId } from "../events/categories.ts";
import type { Outcome, StoredEvent } from "../events/model.ts";

/** Column list in the order `eventToRow` produces values. */
export const eventColumns = [
  "tenant", "seq", "id", "occurred_at", "received_at", "actor_id", "actor_name", "actor_type", "action", "category",
  "resource_type", "resource_id", "resource_name", "outcome", "client_ip", "user_agent", "details", "session_id",
  "request_id", "prev_hash", "hash",
] as const;

/** Postgres array type of each column, for `unnest` multi-row inserts. */
export const eventColumnArrayTypes = [
  "text[]", "bigint[]", "uuid[]", "timestamptz[]", "timestamptz[]", "text[]", "text[]", "text[]", "text[]", "text[]",
  "text[]", "text[]", "text[]", "text[]", "text[]", "text[]", "text[]", "text[]", "text[]", "text[]", "text[]",
] as const;

export interface EventRow {
  tenant: string;
  seq: number;
  id: string;
  /** Already in the stored form (UTC, milliseconds), formatted by Postgres: see eventSelectList. */
  occurred_at: string;
  received_at: string;
  actor_id: string;
  actor_name: string | null;
  actor_type: string;
  action: string;
  category: string;
  resource_type: string;
  resource_id: string;
  resource_name: string | null;
  outcome: string;
  client_ip: string | null;
  user_agent: string | null;
  /** Canonical JSON text (see migration 0001). */
  details: string | null;
  session_id: string | null;
  request_id: string | null;
  prev_hash: string;
  hash: string;
}

/** Postgres formats timestamps in the stored RFC 3339 form, which is much cheaper than parsing Dates in JS. */
export const isoUtcSql = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const isoUtc = (col: string) => `${isoUtcSql(col)} AS ${col}`;

/** SELECT list that yields an EventRow. */
export const eventSelectList = eventColumns.map((c) => (c === "occurred_at" || c === "received_at" ? isoUtc(c) : c)).join(", ");

export function eventToRow(e: StoredEvent): unknown[] {
  return [
    e.tenant, e.seq, e.id, e.occurredAt, e.receivedAt, e.actor.id, e.actor.name ?? null, e.actor.type, e.action,
    e.category, e.resource.type, e.resource.id, e.resource.name ?? null, e.outcome, e.clientIp ?? null,
    e.userAgent ?? null, e.details === undefined ? null : canonicalJson(e.details), e.sessionId ?? null,
    e.requestId ?? null, e.prevHash, e.hash,
  ];
}

/** Rebuilds the exact hashed object from a row: nulls become absent fields. */
export function rowToEvent(r: EventRow): StoredEvent {
  return rowToEventWith(r, (text) => withStoredText(JSON.parse(text) as Record<string, unknown>, text));
}

/**
 * For streaming serialisation only (export): `details` is an opaque stand-in that serialises, through
 * canonicalJson, to the stored canonical text without parsing it. Reading its members finds nothing; never hand
 * such an event to code that inspects details.
 */
export function rowToSerialisableEvent(r: EventRow): StoredEvent {
  return rowToEventWith(r, (text) => withStoredText({}, text));
}

function rowToEventWith(r: EventRow, details: (text: string) => Record<string, unknown>): StoredEvent {
  const e: StoredEvent = {
    id: r.id,
    tenant: r.tenant,
    seq: Number(r.seq),
    occurredAt: r.occurred_at,
    receivedAt: r.received_at,
    actor: { id: r.actor_id, type: r.actor_type as StoredEvent["actor"]["type"] },
    action: r.action,
    category: r.category as CategoryId,
    resource: { type: r.resource_type, id: r.resource_id },
    outcome: r.outcome as Outcome,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
  if (r.actor_name !== null) e.actor.name = r.actor_name;
  if (r.resource_name !== null) e.resource.name = r.resource_name;
  if (r.client_ip !== null) e.clientIp = r.client_ip;
  if (r.user_agent !== null) e.userAgent = r.user_agent;
  if (r.details !== null) e.details = details(r.details);
  if (r.session_id !== null) e.sessionId = r.session_id;
  if (r.request_id !== null) e.requestId = r.request_id;
  return e;
}
