import { isIP } from "node:net";
import { z } from "zod";
import { categoryIds, categoryTable, type CategoryId } from "../events/categories.ts";
import { inStoredYearRange, outcomes } from "../events/model.ts";

const commaList = <T extends string>(item: z.ZodType<T, string>, what: string) =>
  z
    .string()
    .transform((s) => s.split(",").map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(item).min(1, `${what} must name at least one value`).max(50));

/** `auth.login` or `auth.*` (every action under a prefix, which may itself be dotted: `resource.cluster.*`). */
export const actionPattern = z
  .string()
  .regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_-]*)*(\.\*)?$/, "must be an action like auth.login or a prefix like auth.*")
  .refine((a) => a.includes("."), "must be an action like auth.login or a prefix like auth.*");

function isIpOrCidr(v: string): boolean {
  const [addr, bits, extra] = v.split("/");
  // net.isIP accepts IPv6 zone ids (fe80::1%eth0), which PostgreSQL's inet does not.
  if (extra !== undefined || !addr || addr.includes("%")) return false;
  const family = isIP(addr);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/** C0 controls except tab, and DEL: never part of a meaningful filter, and NUL cannot even reach PostgreSQL text. */
function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true;
  }
  return false;
}
const cleanText = (s: string) => s.isWellFormed() && !hasControlCharacter(s);
const cleanTextMessage = "must be valid Unicode without control characters (tab aside)";

/** Text matched against stored text, checked before anything runs or is recorded. */
const filterText = (max: number) => z.string().min(1).max(max).refine(cleanText, cleanTextMessage);

const timestamp = z.iso
  .datetime({ offset: true })
  .refine((t) => inStoredYearRange(new Date(t)), "must fall between 0001-01-01 and 9999-12-31 in UTC")
  .transform((s) => new Date(s));

/** Query parameters shared by search and export. */
export const eventFilterSchema = z
  .object({
    action: commaList(actionPattern, "action").optional(),
    category: commaList(z.enum(categoryIds), "category").optional(),
    actor: filterText(256).optional(),
    resourceType: filterText(128).optional(),
    resource: filterText(256).optional(),
    outcome: commaList(z.enum(outcomes), "outcome").optional(),
    ip: z.string().refine(isIpOrCidr, "must be an IP address or a CIDR block such as 10.0.0.0/8").optional(),
    from: timestamp.optional(),
    to: timestamp.optional(),
    q: z.string().refine(cleanText, cleanTextMessage).trim().min(1).max(256).optional(),
  })
  .refine((f) => !f.from || !f.to || f.from <= f.to, { message: "from must not be after to", path: ["from"] });

export type EventFilter = z.output<typeof eventFilterSchema>;

/** Escapes LIKE wildcards so user text matches literally. */
export const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** The free-text document of an event: what `q` matches, and what the search indexer stores (ADR 9). */
export const searchTextSql =
  "trailkeeper_search_text(action, actor_id, actor_name, resource_type, resource_id, resource_name, details)";

/** Builds `WHERE` conditions (without the tenant) for a filter; placeholders continue from `params`. */
export function filterConditions(f: EventFilter, params: unknown[]): string[] {
  return filterVariants(f, params, false)[0]!;
}

/**
 * What the search indexer has recorded for a tenant (core/src/db/search-index.ts): every event up to
 * `indexedThrough` has its stored document; with a time window, no event up to that mark that occurred in the
 * window has a seq above `windowThrough`.
 */
export interface SearchMarks {
  indexedThrough: number;
  windowThrough?: number;
}

/**
 * Like filterConditions, but with `split`, the filter becomes separate variants whose union is the filter, so that
 * each can walk one index newest-first, which an OR cannot:
 * - each "id or name" filter (actor, resource): `actor_id = x` | `actor_name = x`, …;
 * - free text: events up to `marks.indexedThrough` (the tenant's search mark) whose stored document matches — a
 *   semi-join PostgreSQL may drive from the trigram index or from another filter's index, whichever is cheaper —
 *   | the events above it, whose document is recomputed;
 * - a time window, given `marks.windowThrough`: events up to that bound | events above the search mark.
 */
export function filterVariants(f: EventFilter, params: unknown[], split: boolean, marks: SearchMarks = { indexedThrough: 0 }): string[][] {
  const add = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  const where: string[] = [];
  if (f.action) where.push(actionCondition(f.action, add));
  if (f.category) where.push(actionCondition(categoryActionPatterns(f.category), add));
  const alternatives: string[][][] = [];
  if (f.actor) {
    const p = add(f.actor);
    alternatives.push([[`actor_id = ${p}`], [`actor_name = ${p}`]]);
  }
  if (f.resourceType) where.push(`resource_type = ${add(f.resourceType)}`);
  if (f.resource) {
    const p = add(f.resource);
    alternatives.push([[`resource_id = ${p}`], [`resource_name = ${p}`]]);
  }
  if (f.outcome) where.push(`outcome = ANY(${add(f.outcome)}::text[])`);
  if (f.ip) where.push(`client_inet <<= ${add(f.ip)}::inet`);
  if (f.from) where.push(`occurred_at >= ${add(f.from)}`);
  if (f.to) where.push(`occurred_at < ${add(f.to)}`);
  if (f.q) {
    const terms = f.q.toLowerCase().split(/\s+/).filter(Boolean).map((term) => add(`%${likeEscape(term)}%`));
    const recomputed = terms.map((p) => `${searchTextSql} LIKE ${p}`);
    if (split) {
      const mark = add(marks.indexedThrough);
      alternatives.push([[`seq <= ${mark}`, storedMatch(terms)], [`seq > ${mark}`, ...recomputed]]);
    } else {
      where.push(textCondition(terms, recomputed));
    }
  }
  if (split && marks.windowThrough !== undefined) {
    // The window's events lie at or below its bound, or above the mark (not yet in the bounds): each walk then
    // starts where the window's events do rather than at the head.
    alternatives.push([[`seq <= ${add(marks.windowThrough)}`], [`seq > ${add(marks.indexedThrough)}`]]);
  }
  if (!split) return [[...where, ...alternatives.map((alt) => `(${alt.map((a) => a.join(" AND ")).join(" OR ")})`)]];
  return alternatives.reduce<string[][]>((acc, alt) => acc.flatMap((conds) => alt.map((a) => [...conds, ...a])), [where]);
}

/**
 * Free text as one condition on `events`: the event's stored document matches, or it has none yet (it lies above
 * the tenant's search mark) and its recomputed document matches. PostgreSQL can run the EXISTS as one hashed
 * lookup or as a probe per event, whichever costs less.
 */
function textCondition(terms: string[], recomputed: string[]): string {
  const stored = storedMatch(terms);
  const mark = "coalesce((SELECT h.seq FROM search_index_heads h WHERE h.tenant = events.tenant), 0)";
  return `(${stored} OR (seq > ${mark} AND ${recomputed.join(" AND ")}))`;
}

/** The event's stored search document matches every term. */
const storedMatch = (terms: string[]) =>
  `EXISTS (SELECT 1 FROM search_documents d WHERE d.tenant = events.tenant AND d.seq = events.seq AND ${terms.map((p) => `d.doc LIKE ${p}`).join(" AND ")})`;

/** A category's actions as `prefix.*` patterns (core/src/events/categories.ts): the action index serves them. */
export function categoryActionPatterns(categories: readonly CategoryId[]): string[] {
  return categoryTable.filter((c) => categories.includes(c.id)).flatMap((c) => c.prefixes.map((p) => `${p}.*`));
}

/** Exact actions and `prefix.*` patterns, OR-ed. */
export function actionCondition(patterns: readonly string[], add: (v: unknown) => string): string {
  const exact = patterns.filter((p) => !p.endsWith(".*"));
  const prefixes = patterns.filter((p) => p.endsWith(".*")).map((p) => `${likeEscape(p.slice(0, -1))}%`);
  const parts: string[] = [];
  if (exact.length) parts.push(`action = ANY(${add(exact)}::text[])`);
  for (const p of prefixes) parts.push(`action LIKE ${add(p)}`);
  return `(${parts.join(" OR ")})`;
}

/** Whether a filter is empty, i.e. an export of it is the whole chain. */
export const isUnfiltered = (f: EventFilter) => Object.values(f).every((v) => v === undefined);

