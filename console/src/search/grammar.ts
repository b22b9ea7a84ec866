/**
 * The search bar's grammar: a pure function from what the viewer typed to the API's search filters
 * (GET /v1/events). Qualifiers are `name:value` (the value may be quoted); everything else is free text.
 * Anything the API cannot serve is returned as a problem, never dropped.
 */
import { categoryTable } from "../../../core/src/events/categories.ts";

export interface EventFilters {
  action?: string;
  category?: string;
  actor?: string;
  resourceType?: string;
  resource?: string;
  outcome?: string;
  ip?: string;
  from?: string;
  to?: string;
  q?: string;
}

export interface SearchProblem {
  /** The token as typed, so the viewer can find it. */
  token: string;
  message: string;
}

export interface ParsedSearch {
  filters: EventFilters;
  problems: SearchProblem[];
}

interface Token {
  raw: string;
  /** Lower-cased qualifier name, or undefined for free text. */
  name?: string;
  value: string;
  negated: boolean;
}

type Kind = "list" | "single";
interface Qualifier {
  param: keyof EventFilters;
  kind: Kind;
  check?: (value: string) => string | undefined;
  convert?: (value: string) => string | undefined;
  help: string;
}

export const categoryIds: readonly string[] = categoryTable.map((c) => c.id);
const outcomes = ["success", "failure", "unknown"];

const actionPattern = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*(\.\*)?$/;
const ipv4 = /^(\d{1,3})(\.\d{1,3}){3}(\/\d{1,2})?$/;
const ipv6 = /^[0-9a-f:]*:[0-9a-f:.]*(\/\d{1,3})?$/i;

/** The qualifiers the console understands, keyed by name; `type` is resource type (GitHub-style short name). */
export const qualifiers: Readonly<Record<string, Qualifier>> = {
  action: { param: "action", kind: "list", check: (v) => (actionPattern.test(v) ? undefined : "expected an action such as auth.login or a prefix such as auth.*"), help: "auth.* or secret.reveal" },
  category: { param: "category", kind: "list", check: (v) => (categoryIds.includes(v) ? undefined : `unknown category; one of ${categoryIds.join(", ")}`), help: "secrets" },
  actor: { param: "actor", kind: "single", help: "u-42 (actor id or name)" },
  resource: { param: "resource", kind: "single", help: "db-1 (resource id or name)" },
  type: { param: "resourceType", kind: "single", help: "database (resource type)" },
  outcome: { param: "outcome", kind: "list", check: (v) => (outcomes.includes(v) ? undefined : "expected success, failure or unknown"), help: "failure" },
  ip: { param: "ip", kind: "single", check: (v) => (ipv4.test(v) || ipv6.test(v) ? undefined : "expected an IP address or a CIDR block such as 10.0.0.0/8"), help: "10.0.0.0/8" },
  after: { param: "from", kind: "single", convert: (v) => toInstant(v), help: "2026-11-01 (on or after)" },
  before: { param: "to", kind: "single", convert: (v) => toInstant(v), help: "2026-12-01 (before)" },
};

const dateOnly = /^(\d{4})-(\d{2})-(\d{2})$/;
const dateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/i;

/**
 * A date means midnight in the viewer's time zone (what a person means by "after 1 November"); a date-time without
 * an offset is local time too. Returns an ISO 8601 instant in UTC, or undefined when the text is not a date.
 */
export function toInstant(value: string): string | undefined {
  const d = dateOnly.exec(value);
  if (d) {
    const date = new Date(Number(d[1]), Number(d[2]) - 1, Number(d[3]));
    const real = date.getFullYear() === Number(d[1]) && date.getMonth() === Number(d[2]) - 1 && date.getDate() === Number(d[3]);
    return real ? date.toISOString() : undefined;
  }
  if (!dateTime.test(value)) return undefined;
  const t = new Date(value);
  return Number.isNaN(t.getTime()) ? undefined : t.toISOString();
}

/** Splits on whitespace, keeping double-quoted runs (with \" and \\ escapes) together. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  // The bare value may be empty, so that `type:` followed by a space is a qualifier without a value, not text.
  const re = /(-?)(?:([A-Za-z][\w-]*):)?(?:"((?:[^"\\]|\\.)*)"?|(\S*))/gy;
  let i = 0;
  while (i < text.length) {
    if (/\s/.test(text[i]!)) {
      i += 1;
      continue;
    }
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) break;
    i = re.lastIndex;
    const [raw, minus, name, quoted, bare] = m;
    const value = quoted !== undefined ? quoted.replace(/\\(.)/g, "$1") : (bare ?? "");
    tokens.push(name !== undefined ? { raw, name: name.toLowerCase(), value, negated: minus === "-" } : { raw, value: minus + value, negated: false });
  }
  return tokens;
}

function addQualifier(filters: EventFilters, problems: SearchProblem[], t: Token & { name: string }): void {
  const q = qualifiers[t.name];
  if (!q) {
    problems.push({ token: t.raw, message: `unknown qualifier "${t.name}:"; known: ${Object.keys(qualifiers).join(", ")} (quote the text to search for it literally)` });
    return;
  }
  if (t.negated) return void problems.push({ token: t.raw, message: `excluding with "-${t.name}:" is not supported by the API` });
  const value = q.param === "action" || q.param === "category" || q.param === "outcome" ? t.value.toLowerCase() : t.value;
  if (value === "") return void problems.push({ token: t.raw, message: `"${t.name}:" needs a value, e.g. ${t.name}:${q.help}` });
  const invalid = q.check?.(value);
  if (invalid) return void problems.push({ token: t.raw, message: invalid });
  const converted = q.convert ? q.convert(value) : value;
  if (converted === undefined) return void problems.push({ token: t.raw, message: `expected a date (2026-11-01) or a date-time (2026-11-01T09:30:00Z)` });
  const previous = filters[q.param];
  if (previous === undefined) filters[q.param] = converted;
  else if (q.kind === "list") filters[q.param] = previous.split(",").includes(converted) ? previous : `${previous},${converted}`;
  else if (previous !== converted) problems.push({ token: t.raw, message: `"${t.name}:" can be given only once (the API matches one value)` });
}

/** Parses the search bar's text into the API's filters and the problems found on the way. */
export function parseSearch(text: string): ParsedSearch {
  const filters: EventFilters = {};
  const problems: SearchProblem[] = [];
  const free: string[] = [];
  for (const t of tokenize(text)) {
    if (t.name !== undefined) addQualifier(filters, problems, t as Token & { name: string });
    else if (t.value !== "") free.push(t.value);
  }
  if (free.length) filters.q = free.join(" ");
  if (filters.from && filters.to && filters.from >= filters.to) problems.push({ token: "after:/before:", message: "after: must be earlier than before:" });
  return { filters, problems };
}
