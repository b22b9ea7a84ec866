/**
 * Index designs for the events table that bench/index-options.ts compares (issue 16): each is a list of
 * CREATE INDEX statements for a table named by `%T`, applied to a copy of `events` with the same columns.
 */
import { searchTextSql } from "../../core/src/search/filters.ts";

export interface IndexVariant {
  name: string;
  about: string;
  indexes: readonly string[];
  /** Side tables a search indexer would fill after the append, off its path (each timed after the COPY). */
  asyncIndexers?: readonly SideKind[];
  /** Measured only when named in BENCH_INDEX_VARIANTS (too slow for the default run). */
  optional?: boolean;
  /**
   * The table has a `search_tokens tsvector` column that the writer fills (as the API server would, tokenising in
   * JS); the benchmark computes it before the clock starts.
   */
  givenTokens?: boolean;
}

/**
 * Free-text tokens: every whitespace-separated word of the search text as it is (`auth.login`, `db-prod-1`,
 * `10.0.0.1`, a UUID) and its alphanumeric parts (`auth`, `login`, `db`, `prod`, `1`). Words are cut to 255
 * characters because array_to_tsvector silently garbles lexemes longer than 2047 bytes.
 */
export const benchFunctionsSql = `
CREATE OR REPLACE FUNCTION bench_search_tokens(t text) RETURNS tsvector
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT array_to_tsvector(coalesce(array_agg(left(w, 255)), '{}'))
  FROM unnest(regexp_split_to_array(t, '\\s+') || regexp_split_to_array(t, '[^[:alnum:]]+')) AS w
  WHERE w <> ''
$$;`;

export const tokensSql = `bench_search_tokens(${searchTextSql})`;
/**
 * The same fields with `details` as its stored canonical JSON text rather than its extracted values: no jsonpath
 * per row (trailkeeper_search_text spends most of its time there), at the price of keys and JSON punctuation
 * becoming searchable.
 */
export const rawTextSql =
  "lower(action || ' ' || actor_id || ' ' || coalesce(actor_name, '') || ' ' || resource_type || ' ' || resource_id || ' ' || coalesce(resource_name, '') || ' ' || coalesce(details, ''))";
export const simpleSql = `to_tsvector('simple'::regconfig, ${searchTextSql})`;

const keys = ["CREATE UNIQUE INDEX ON %T (tenant, seq, received_at)", "CREATE INDEX ON %T (tenant, id)"];
const trigram = (withClause = "") => `CREATE INDEX ON %T USING gin (${searchTextSql} gin_trgm_ops)${withClause}`;
/** The b-trees and the GiST index of migrations 0002 and 0015, without the trigram GIN index. */
const currentOthers = [
  "CREATE INDEX ON %T (tenant, action text_pattern_ops, seq)",
  "CREATE INDEX ON %T (tenant, category, seq)",
  "CREATE INDEX ON %T (tenant, actor_id, seq)",
  "CREATE INDEX ON %T (tenant, actor_name, seq) WHERE actor_name IS NOT NULL",
  "CREATE INDEX ON %T (tenant, resource_type, seq)",
  "CREATE INDEX ON %T (tenant, resource_id, seq)",
  "CREATE INDEX ON %T (tenant, resource_name, seq) WHERE resource_name IS NOT NULL",
  "CREATE INDEX ON %T (tenant, occurred_at)",
  "CREATE INDEX ON %T USING gist (client_inet inet_ops) WHERE client_inet IS NOT NULL",
];
/**
 * Fewer b-trees: category is served by the action index through its prefixes (core/src/events/categories.ts),
 * names and resource type by the text index with an exact recheck, CIDR by a b-tree (inet's <<= becomes a range),
 * occurredAt by BRIN (rows arrive roughly in time order).
 */
const slim = [
  "CREATE INDEX ON %T (tenant, action text_pattern_ops, seq)",
  "CREATE INDEX ON %T (tenant, actor_id, seq)",
  "CREATE INDEX ON %T (tenant, resource_id, seq)",
  "CREATE INDEX ON %T (tenant, client_inet) WHERE client_inet IS NOT NULL",
  "CREATE INDEX ON %T USING brin (occurred_at)",
];
/**
 * The shipped b-trees less the category index (served by the action index through its prefixes), with the GiST
 * index on client_inet as a b-tree: what migration 0016 ships once free text moved off the append path.
 */
const middle = [
  ...currentOthers.filter((i) => !i.includes("category") && !i.includes("gist")),
  "CREATE INDEX ON %T (tenant, client_inet) WHERE client_inet IS NOT NULL",
];
const trigramRaw = `CREATE INDEX ON %T USING gin (${rawTextSql} gin_trgm_ops)`;
const tokens = (withClause = "") => `CREATE INDEX ON %T USING gin (${tokensSql})${withClause}`;

export const indexVariants: readonly IndexVariant[] = [
  { name: "key-only", about: "primary key and (tenant, id): the yardstick", indexes: keys },
  { name: "current", about: "every index of the shipped schema", indexes: [...keys, trigram(), ...currentOthers] },
  { name: "current-no-trgm", about: "shipped schema without the trigram GIN", indexes: [...keys, ...currentOthers] },
  { name: "current-trgm-pending64MB", about: "shipped schema, trigram GIN with gin_pending_list_limit 64 MB", indexes: [...keys, trigram(" WITH (gin_pending_list_limit = 65536)"), ...currentOthers] },
  { name: "current-trgm-fastupdate-off", about: "shipped schema, trigram GIN with fastupdate off", indexes: [...keys, trigram(" WITH (fastupdate = off)"), ...currentOthers], optional: true },
  { name: "current-trgm-raw", about: "shipped schema, trigram GIN over the raw text (details as stored JSON)", indexes: [...keys, trigramRaw, ...currentOthers] },
  { name: "current-fts-simple", about: "trigram GIN replaced by GIN over to_tsvector('simple', …)", indexes: [...keys, ...currentOthers, `CREATE INDEX ON %T USING gin (${simpleSql})`] },
  { name: "current-fts-tokens", about: "trigram GIN replaced by GIN over words and their parts", indexes: [...keys, ...currentOthers, tokens()] },
  { name: "slim-tokens", about: "5 b-trees + BRIN + GIN over words and parts", indexes: [...keys, ...slim, tokens()] },
  { name: "slim-tokens-given", about: "slim + GIN over a tokens column the writer fills (words and parts)", indexes: [...keys, ...slim, "CREATE INDEX ON %T USING gin (search_tokens)"], givenTokens: true },
  { name: "slim-trgm-raw", about: "5 b-trees + BRIN + trigram GIN over the raw text", indexes: [...keys, ...slim, trigramRaw] },
  { name: "middle-no-text", about: "shipped b-trees less category, client_inet as a b-tree, no text index", indexes: [...keys, ...middle] },
  { name: "middle-brin-no-text", about: "middle, occurred_at as BRIN", indexes: [...keys, ...middle.filter((i) => !i.includes("occurred_at")), "CREATE INDEX ON %T USING brin (occurred_at)"] },
  { name: "slim-no-text", about: "slim without a text index (text indexed off the append path)", indexes: [...keys, ...slim], asyncIndexers: ["tokens", "trigram", "trigram-raw", "tokens-given", "trigram-given"] },
];

/**
 * `…-given`: the document arrives already computed (as an indexer in the API server would send it, tokens or
 * search text built in JS), so only the insert and the index are PostgreSQL's work.
 */
export type SideKind = "tokens" | "trigram" | "trigram-raw" | "tokens-given" | "trigram-given";

const trigramSide = ["CREATE TABLE %S (tenant text NOT NULL, seq bigint NOT NULL, doc text NOT NULL, PRIMARY KEY (tenant, seq))", "CREATE INDEX ON %S USING gin (doc gin_trgm_ops)"];
/** Side tables an asynchronous search indexer would fill, one per kind, keyed like events, holding the document. */
export const sideTableSql: Record<SideKind, readonly string[]> = {
  tokens: ["CREATE TABLE %S (tenant text NOT NULL, seq bigint NOT NULL, doc tsvector NOT NULL, PRIMARY KEY (tenant, seq))", "CREATE INDEX ON %S USING gin (doc)"],
  trigram: trigramSide,
  "trigram-raw": trigramSide,
  "tokens-given": ["CREATE TABLE %S (tenant text NOT NULL, seq bigint NOT NULL, doc tsvector NOT NULL, PRIMARY KEY (tenant, seq))", "CREATE INDEX ON %S USING gin (doc)"],
  "trigram-given": trigramSide,
};

export const sideDocSql: Record<SideKind, string> = {
  tokens: tokensSql, trigram: searchTextSql, "trigram-raw": rawTextSql, "tokens-given": tokensSql, "trigram-given": searchTextSql,
};

/** Expressions whose cost per row bench/index-options.ts prints: what an expression index pays before its index. */
export const costedExpressions: readonly [string, string][] = [
  ["trailkeeper_search_text (today's document)", searchTextSql],
  ["raw text (details as stored JSON)", rawTextSql],
  ["show_trgm(search text): trigrams", `show_trgm(${searchTextSql})`],
  ["show_trgm(raw text)", `show_trgm(${rawTextSql})`],
  ["to_tsvector('simple', search text)", simpleSql],
  ["bench_search_tokens(search text)", tokensSql],
];
