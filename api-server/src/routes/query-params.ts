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

const filterKeys = Object.keys(eventFilterSchema.shape) as (keyof EventFilter)[];

/** Picks and validates the parameters a schema names; filters are parsed separately by parseFilter. */
export function parseParams<S extends z.ZodObject>(schema: S, query: Record<string, unknown>): z.output<S> {
  const picked = Object.fromEntries(Object.keys(schema.shape).filter((k) => k in query).map((k) => [k, query[k]]));
  const r = schema.safeParse(picked);
  if (!r.success) throw new Problem(400, "invalid_filter", "invalid query parameters", fieldErrors(r.error));
  return r.data;
}

export const pageSchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().optional(),
});

export function parseFilter(query: Record<string, unknown>): EventFilter {
  const only = Object.fromEntries(Object.entries(query).filter(([k]) => (filterKeys as string[]).includes(k)));
  const r = eventFilterSchema.safeParse(only);
  if (!r.success) throw new Problem(400, "invalid_filter", "invalid filter", fieldErrors(r.error));
  return r.data;
}

/** The filter's raw parameters, as recorded in the chain for exports. */
export function rawFilter(query: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(query).filter(([k, v]) => (filterKeys as string[]).includes(k) && typeof v === "string")) as Record<string, string>;
}

export function rejectUnknownParams(query: Record<string, unknown>, allowed: readonly string[]): void {
  const unknown = Object.keys(query).filter((k) => !allowed.includes(k) && !(filterKeys as string[]).includes(k));
  if (unknown.length) throw new Problem(400, "invalid_filter", `unknown query parameter ${unknown.join(", ")}`, unknown.map((k) => ({ path: k, message: "unknown parameter" })));
}
