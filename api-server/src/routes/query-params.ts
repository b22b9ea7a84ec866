import { z } from "zod";
import { eventFilterSchema, type EventFilter } from "@trailkeeper/core/search/filters.ts";
import { fieldErrors, Problem } from "../problem.ts";

/** Opaque keyset cursor: base64url JSON naming the seq to continue below. */
export const encodeCursor = (seq: number) => Buffer.from(JSON.stringify({ v: 1, before: seq })).toString("base64url");

export function decodeCursor(cursor: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { v?: unknown; before?: unknown };
    if (parsed.v === 1 && Number.isSafeInteger(parsed.before) && (parsed.before as number) > 0) return parsed.before as number;
  } catch {
    /* fall through */
  }
  throw new Problem(400, "invalid_cursor", "cursor is not one this API issued", [{ path: "cursor", message: "malformed" }]);
}

/** As many parameters as node:querystring keeps by default; it drops the rest silently, this refuses them. */
const maxQueryParameters = 1000;

function decodeQueryComponent(s: string): string {
  try {
    return decodeURIComponent(s.replaceAll("+", " "));
  } catch {
    throw new Problem(400, "invalid_filter", "the query string is not valid percent-encoded UTF-8", [{ path: "query", message: `malformed percent-encoding or invalid UTF-8 in ${JSON.stringify(s.slice(0, 64))}` }]);
  }
}

/**
 * The app's query string parser. node:querystring (express's "simple" parser) turns invalid UTF-8 into U+FFFD and
 * keeps a malformed escape such as `%zz` as text, so a filter (and an export's record of it) would silently differ
 * from what was sent; this refuses both. Repeated names become arrays, as before.
 */
export function parseQueryString(qs: string | null | undefined): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  const parts = (qs ?? "").split("&").filter((p) => p !== ""); // express passes null when the URL has no "?"
  if (parts.length > maxQueryParameters) throw new Problem(400, "invalid_filter", `a query string holds at most ${maxQueryParameters} parameters`);
  for (const part of parts) {
    const eq = part.indexOf("=");
    const key = decodeQueryComponent(eq === -1 ? part : part.slice(0, eq));
    const value = decodeQueryComponent(eq === -1 ? "" : part.slice(eq + 1));
    const prev = out[key];
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

const filterKeys = Object.keys(eventFilterSchema.shape) as (keyof EventFilter)[];

type Outputs<S extends readonly z.ZodObject[]> = { [K in keyof S]: z.output<S[K]> };

/**
 * Validates a request's query string against the schemas that name its parameters (e.g. paging and the event
 * filter). A parameter no schema names is rejected, and every problem is reported in one 400.
 */
export function parseQuery<const S extends readonly z.ZodObject[]>(query: Record<string, unknown>, ...schemas: S): Outputs<S> {
  const known = new Set(schemas.flatMap((s) => Object.keys(s.shape)));
  const errors = Object.keys(query).filter((k) => !known.has(k)).map((k) => ({ path: k, message: "unknown parameter" }));
  const outputs = schemas.map((schema) => {
    const r = schema.safeParse(Object.fromEntries(Object.keys(schema.shape).filter((k) => k in query).map((k) => [k, query[k]])));
    if (!r.success) errors.push(...fieldErrors(r.error));
    return r.data;
  });
  if (errors.length) throw new Problem(400, "invalid_filter", "invalid query parameters", errors);
  return outputs as Outputs<S>;
}

export const pageSchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().optional(),
});

/** The filter's raw parameters, as recorded in the chain for exports. */
export function rawFilter(query: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(query).filter(([k, v]) => (filterKeys as string[]).includes(k) && typeof v === "string")) as Record<string, string>;
}
