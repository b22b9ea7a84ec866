import { eventSelectList, rowToEvent, type EventRow } from "../db/event-rows.ts";
import type { Pool } from "../db/pool.ts";
import type { StoredEvent } from "../events/model.ts";
import { filterConditions, type EventFilter } from "./filters.ts";

export interface SqlQuery {
  text: string;
  values: unknown[];
}

/** Newest first, keyset on seq: a page never repeats or skips events however many are appended meanwhile. */
export function searchQuery(tenant: string, filter: EventFilter, limit: number, beforeSeq?: number): SqlQuery {
  const values: unknown[] = [tenant];
  const where = ["tenant = $1", ...filterConditions(filter, values)];
  if (beforeSeq !== undefined) {
    values.push(beforeSeq);
    where.push(`seq < $${values.length}`);
  }
  values.push(limit);
  return { text: `SELECT ${eventSelectList} FROM events WHERE ${where.join(" AND ")} ORDER BY seq DESC LIMIT $${values.length}`, values };
}

/** Oldest first (chain order) up to `maxSeq`, so an export is a consistent snapshot a verifier can walk. */
export function exportQuery(tenant: string, filter: EventFilter, maxSeq: number): SqlQuery {
  const values: unknown[] = [tenant, maxSeq];
  const where = ["tenant = $1", "seq <= $2", ...filterConditions(filter, values)];
  return { text: `SELECT ${eventSelectList} FROM events WHERE ${where.join(" AND ")} ORDER BY seq`, values };
}

export async function searchEvents(pool: Pool, tenant: string, filter: EventFilter, limit: number, beforeSeq?: number): Promise<{ events: StoredEvent[]; nextBeforeSeq: number | null }> {
  const q = searchQuery(tenant, filter, limit + 1, beforeSeq);
  const rows = (await pool.query<EventRow>(q.text, q.values)).rows;
  const events = rows.slice(0, limit).map(rowToEvent);
  return { events, nextBeforeSeq: rows.length > limit ? events.at(-1)!.seq : null };
}
