import pg from "pg";

/**
 * A bind parameter written as an SQL literal, for the one statement that cannot take parameters: COPY. Strings
 * go through pg's `escapeLiteral` (quotes doubled, backslashes in an E'' literal), so no value can end the
 * literal early; only the types the query builders use are accepted.
 */
export function sqlLiteral(v: unknown): string {
  if (typeof v === "string") return pg.escapeLiteral(v);
  if (typeof v === "number" && Number.isSafeInteger(v)) return String(v);
  if (v instanceof Date && !Number.isNaN(v.getTime())) return `${pg.escapeLiteral(v.toISOString())}::timestamptz`;
  if (Array.isArray(v)) return `ARRAY[${v.map(sqlLiteral).join(", ")}]`;
  throw new Error(`no SQL literal for ${typeof v} ${String(v)}`);
}

/** Replaces `$1`, `$2`, … by their values as literals (see sqlLiteral). */
export function inlineParams(text: string, values: readonly unknown[]): string {
  return text.replace(/\$(\d+)/g, (_m, n: string) => {
    const i = Number(n) - 1;
    if (i < 0 || i >= values.length) throw new Error(`no value for $${n}`);
    return sqlLiteral(values[i]);
  });
}
