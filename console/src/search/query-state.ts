/**
 * The Audit Logs page's whole state lives in its URL (`/audit-logs?q=…&category=…&range=…`), so a link reproduces
 * the view and back/forward walks through searches. These pure functions convert between the URL, the page state
 * and the API's filters.
 */
import { parseSearch, type EventFilters, type SearchProblem } from "./grammar.ts";

export const rangePresets = [
  { id: "all", label: "All time", ms: 0 },
  { id: "1h", label: "Last 1 hour", ms: 3_600_000 },
  { id: "24h", label: "Last 24 hours", ms: 86_400_000 },
  { id: "7d", label: "Last 7 days", ms: 7 * 86_400_000 },
  { id: "30d", label: "Last 30 days", ms: 30 * 86_400_000 },
  { id: "custom", label: "Custom range", ms: 0 },
] as const;
export type RangeId = (typeof rangePresets)[number]["id"];

export interface AuditQuery {
  /** The search bar's text, as typed. */
  text: string;
  /** Category ids chosen in the action-type filter. */
  categories: string[];
  range: RangeId;
  /** Custom range bounds, ISO 8601 instants. */
  from?: string;
  to?: string;
}

export const emptyQuery: AuditQuery = { text: "", categories: [], range: "all" };

const isRange = (v: string | null): v is RangeId => rangePresets.some((p) => p.id === v);

export function queryFromSearchParams(params: URLSearchParams): AuditQuery {
  const range = params.get("range");
  const q: AuditQuery = {
    text: params.get("q") ?? "",
    categories: (params.get("category") ?? "").split(",").filter(Boolean),
    range: isRange(range) ? range : "all",
  };
  if (q.range === "custom") {
    const from = params.get("from");
    const to = params.get("to");
    if (from) q.from = from;
    if (to) q.to = to;
  }
  return q;
}

export function queryToSearch(q: AuditQuery): string {
  const p = new URLSearchParams();
  if (q.text.trim()) p.set("q", q.text.trim());
  if (q.categories.length) p.set("category", q.categories.join(","));
  if (q.range !== "all") p.set("range", q.range);
  if (q.range === "custom") {
    if (q.from) p.set("from", q.from);
    if (q.to) p.set("to", q.to);
  }
  const s = p.toString();
  return s ? `?${s}` : "";
}

const later = (a: string | undefined, b: string | undefined) => (a === undefined ? b : b === undefined || a > b ? a : b);
const earlier = (a: string | undefined, b: string | undefined) => (a === undefined ? b : b === undefined || a < b ? a : b);

/**
 * The API filters for a page state at `now`. The search bar, the category filter and the time range all apply
 * (they combine with AND): categories join the search bar's `category:` values only when it has none, and the
 * time bounds are intersected.
 */
export function toApiFilters(q: AuditQuery, now: number): { filters: EventFilters; problems: SearchProblem[] } {
  const { filters, problems } = parseSearch(q.text);
  if (q.categories.length) {
    if (filters.category) {
      const typed = filters.category.split(",");
      const both = typed.filter((c) => q.categories.includes(c));
      if (both.length === 0) problems.push({ token: "category:", message: "the search bar's category: and the action-type filter have no category in common" });
      else filters.category = both.join(",");
    } else filters.category = q.categories.join(",");
  }
  const preset = rangePresets.find((p) => p.id === q.range);
  const rangeFrom = q.range === "custom" ? q.from : preset && preset.ms > 0 ? new Date(now - preset.ms).toISOString() : undefined;
  const rangeTo = q.range === "custom" ? q.to : undefined;
  const from = later(filters.from, rangeFrom);
  const to = earlier(filters.to, rangeTo);
  if (from) filters.from = from;
  if (to) filters.to = to;
  return { filters, problems };
}

/** The filters as query parameters in a fixed order, for API URLs (search and export). */
export function filtersToParams(filters: EventFilters): URLSearchParams {
  const p = new URLSearchParams();
  for (const key of ["action", "category", "actor", "resourceType", "resource", "outcome", "ip", "from", "to", "q"] as const) {
    const v = filters[key];
    if (v !== undefined && v !== "") p.set(key, v);
  }
  return p;
}
