import { eventSelectList, rowToEvent, type EventRow } from "../db/event-rows.ts";
import type { Pool } from "../db/pool.ts";
import { inlineParams } from "../db/sql-literal.ts";
import { csvCopySelectList } from "../export/csv-copy.ts";
import type { StoredEvent } from "../events/model.ts";
import { indexedThrough, windowSeqBound } from "../db/search-index.ts";
import { filterConditions, filterVariants, type EventFilter, type SearchMarks } from "./filters.ts";

export interface SqlQuery {
  text: string;
  values: unknown[];
}

/**
 * Newest first, keyset on seq: a page never repeats or skips events however many are appended meanwhile.
 * "id or name" filters and free text run as a UNION of ordered index walks (see filterVariants); free text reads
 * the stored search documents up to `marks.indexedThrough` (the tenant's search mark) and recomputes those above
 * it, and a wide time window starts at `marks.windowThrough`. With `narrowWindow` (the caller found few events in the from/to range) the matches are
 * collected first and then ordered, because the planner cannot know that a time window far back lies far from
 * the newest seq.
 */
export function searchQuery(tenant: string, filter: EventFilter, limit: number, beforeSeq?: number, narrowWindow = false, marks: SearchMarks = { indexedThrough: 0 }): SqlQuery {
  const values: unknown[] = [tenant];
  const variants = filterVariants(filter, values, !narrowWindow, marks);
  const keyset: string[] = [];
  if (beforeSeq !== undefined) {
    values.push(beforeSeq);
    keyset.push(`seq < $${values.length}`);
  }
  values.push(limit);
  const lim = `$${values.length}`;
  const select = (conds: string[]) => `SELECT ${eventSelectList}, seq AS k FROM events WHERE ${["tenant = $1", ...conds, ...keyset].join(" AND ")}`;
  let text: string;
  if (narrowWindow) text = `WITH w AS MATERIALIZED (${select(variants[0]!)}) SELECT * FROM w ORDER BY k DESC LIMIT ${lim}`;
  else if (variants.length === 1) text = `${select(variants[0]!)} ORDER BY seq DESC LIMIT ${lim}`;
  else text = `SELECT * FROM (${variants.map((v) => `(${select(v)} ORDER BY seq DESC LIMIT ${lim})`).join(" UNION ")}) u ORDER BY k DESC LIMIT ${lim}`;
  return { text, values };
}

/** Events in a time window above which the ordinary newest-first plan is used (see searchQuery). */
export const narrowWindowEvents = 10_000;

export async function isNarrowWindow(pool: Pool, tenant: string, filter: EventFilter): Promise<boolean> {
  if (!filter.from && !filter.to) return false;
  const r = await pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM (SELECT 1 FROM events WHERE tenant = $1 AND occurred_at >= $2 AND occurred_at < $3 LIMIT $4) x",
    [tenant, filter.from ?? new Date(0), filter.to ?? new Date(8.64e15), narrowWindowEvents + 1],
  );
  return (r.rows[0]?.n ?? 0) <= narrowWindowEvents;
}

/**
 * Oldest first (chain order) up to `maxSeq`, so an export is a consistent snapshot a verifier can walk.
 * `selectList` defaults to the columns of an EventRow.
 */
export function exportQuery(tenant: string, filter: EventFilter, maxSeq: number, selectList = eventSelectList): SqlQuery {
  const values: unknown[] = [tenant, maxSeq];
  const where = ["tenant = $1", "seq <= $2", ...filterConditions(filter, values)];
  return { text: `SELECT ${selectList} FROM events WHERE ${where.join(" AND ")} ORDER BY seq`, values };
}

/** The CSV export as one COPY statement (see export/csv-copy.ts); COPY takes no parameters, so they are inlined. */
export function exportCsvCopyStatement(tenant: string, filter: EventFilter, maxSeq: number): string {
  const q = exportQuery(tenant, filter, maxSeq, csvCopySelectList);
  return `COPY (${inlineParams(q.text, q.values)}) TO STDOUT WITH (FORMAT csv)`;
}

/** One event by id (a uuid, lower case), or undefined: the console fetches an expanded row's full event this way. */
export async function eventById(pool: Pool, tenant: string, id: string): Promise<StoredEvent | undefined> {
  const row = (await pool.query<EventRow>(`SELECT ${eventSelectList} FROM events WHERE tenant = $1 AND id = $2`, [tenant, id])).rows[0];
  return row === undefined ? undefined : rowToEvent(row);
}

/** What searchQuery needs to know about the tenant beyond the filter: whether the window is narrow, and its marks. */
export async function planSearch(pool: Pool, tenant: string, filter: EventFilter): Promise<[narrowWindow: boolean, marks: SearchMarks]> {
  const windowed = filter.from !== undefined || filter.to !== undefined;
  const [narrow, mark] = await Promise.all([isNarrowWindow(pool, tenant, filter), filter.q || windowed ? indexedThrough(pool, tenant) : 0]);
  if (narrow || !windowed) return [narrow, { indexedThrough: mark }];
  return [narrow, { indexedThrough: mark, windowThrough: await windowSeqBound(pool, tenant, filter.from, filter.to) }];
}

export async function searchEvents(pool: Pool, tenant: string, filter: EventFilter, limit: number, beforeSeq?: number): Promise<{ events: StoredEvent[]; nextBeforeSeq: number | null }> {
  const q = searchQuery(tenant, filter, limit + 1, beforeSeq, ...(await planSearch(pool, tenant, filter)));
  const rows = (await pool.query<EventRow>(q.text, q.values)).rows;
  const events = rows.slice(0, limit).map(rowToEvent);
  return { events, nextBeforeSeq: rows.length > limit ? events.at(-1)!.seq : null };
}
