import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { EsPrincipal } from "./elasticsearch-server.ts";
import { sendJson, type RecordedRequest } from "./http-test-server.ts";

/**
 * Elasticsearch's `_bulk` API as protocols.md §3 describes it: NDJSON pairs that must end with a newline, HTTP 200
 * with `errors` and one item per action in request order, `create` refusing an existing `_id` with 409, data streams
 * taking only `create` and requiring `@timestamp`, missing privileges as per-item 403, and `filter_path`.
 */
export interface EsDocument {
  _id: string;
  _source: Record<string, unknown>;
}

export interface EsItemFailure {
  status: number;
  type: string;
  reason: string;
}

export interface BulkItemRequest {
  op: string;
  index: string;
  id: string | undefined;
  source: Record<string, unknown>;
}

export interface BulkState {
  /** Documents by index or data stream name, in the order they were written. */
  documents: Map<string, EsDocument[]>;
  /** Names that behave as data streams. */
  dataStreams: Set<string>;
  /** Fails an item the tests pick (e.g. 429 es_rejected_execution_exception, 400 document_parsing_exception). */
  failItem: ((item: BulkItemRequest) => EsItemFailure | undefined) | undefined;
  /** The item statuses of every `_bulk` answered with 200, in order. */
  bulkItemStatuses: number[][];
}

const ops = new Set(["create", "index", "update", "delete"]);

function requestError(res: ServerResponse, status: number, type: string, reason: string): void {
  const error = { type, reason };
  sendJson(res, status, { error: { root_cause: [error], ...error }, status });
}

/** Elasticsearch's `filter_path`: comma-separated dotted paths, `*` matching any key; arrays are filtered element-wise. */
export function filterPath(value: unknown, spec: string | null): unknown {
  if (spec === null || spec === "") return value;
  return pick(value, spec.split(",").map((p) => p.trim().split("."))) ?? {};
}

function pick(value: unknown, paths: string[][]): unknown {
  if (paths.some((p) => p.length === 0)) return value;
  if (Array.isArray(value)) {
    const kept = value.map((v) => pick(v, paths)).filter((v) => v !== undefined);
    return kept.length === 0 ? undefined : kept;
  }
  if (value === null || typeof value !== "object") return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const rest = paths.filter((p) => p[0] === "*" || p[0] === key).map((p) => p.slice(1));
    const picked = rest.length === 0 ? undefined : pick(child, rest);
    if (picked !== undefined) out[key] = picked;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

function parseObject(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

type Item = Record<string, unknown>;

const idIndexes = new WeakMap<EsDocument[], Map<string, number>>();

/** Position of each `_id` in an index, rebuilt when a test wrote to `documents` directly; keeps big runs linear. */
function idIndex(docs: EsDocument[]): Map<string, number> {
  let ids = idIndexes.get(docs);
  if (ids === undefined || ids.size !== docs.length) {
    ids = new Map(docs.map((d, i) => [d._id, i]));
    idIndexes.set(docs, ids);
  }
  return ids;
}

function writeItem(state: BulkState, req: BulkItemRequest, principal: EsPrincipal, allowed: (p: EsPrincipal, index: string, privilege: string) => boolean): Item {
  const dataStream = state.dataStreams.has(req.index);
  const indexName = dataStream ? `.ds-${req.index}-2025.01.01-000001` : req.index;
  const fail = (status: number, type: string, reason: string): Item => ({ _index: indexName, _id: req.id ?? null, status, error: { type, reason, index: indexName } });
  const privilege = req.op === "create" ? "create_doc" : "index";
  if (!allowed(principal, req.index, privilege)) {
    return fail(403, "security_exception", `action [indices:data/write/bulk[s]] is unauthorized for user [${principal.username}] on indices [${req.index}], this action is granted by the index privileges [${privilege},write,all]`);
  }
  if (dataStream && req.op !== "create") return fail(400, "illegal_argument_exception", "only write ops with an op_type of create are allowed in data streams");
  if (dataStream && typeof req.source["@timestamp"] !== "string") return fail(400, "document_parsing_exception", "[1:1] failed to parse: data stream timestamp field [@timestamp] is missing");
  const forced = state.failItem?.(req);
  if (forced !== undefined) return fail(forced.status, forced.type, forced.reason);
  const docs = state.documents.get(req.index) ?? [];
  state.documents.set(req.index, docs);
  const id = req.id ?? randomUUID().replaceAll("-", "").slice(0, 20);
  const ids = idIndex(docs);
  const existing = ids.get(id);
  if (existing !== undefined && req.op === "create") return fail(409, "version_conflict_engine_exception", `[${id}]: version conflict, document already exists (current version [1])`);
  if (existing !== undefined) docs[existing] = { _id: id, _source: req.source };
  else ids.set(id, docs.push({ _id: id, _source: req.source }) - 1);
  const created = existing === undefined;
  return { _index: indexName, _id: id, _version: 1, result: created ? "created" : "updated", _shards: { total: 2, successful: 1, failed: 0 }, _seq_no: docs.length - 1, _primary_term: 1, status: created ? 201 : 200 };
}

/** Handles `POST /_bulk` and `POST /<target>/_bulk` for an authenticated principal. */
export function handleBulk(state: BulkState, req: RecordedRequest, res: ServerResponse, principal: EsPrincipal, allowed: (p: EsPrincipal, index: string, privilege: string) => boolean): void {
  const started = Date.now();
  const contentType = String(req.headers["content-type"] ?? "").split(";")[0]!.trim();
  if (!["application/json", "application/x-ndjson"].includes(contentType)) return sendJson(res, 406, { error: `Content-Type header [${contentType}] is not supported`, status: 406 });
  const text = req.body.toString("utf8");
  if (text === "") return requestError(res, 400, "parse_exception", "request body is required");
  if (!text.endsWith("\n")) return requestError(res, 400, "illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]");
  const pathIndex = /^\/([^/]+)\/_bulk$/.exec(req.path)?.[1];
  const lines = text.slice(0, -1).split("\n");
  const items: Item[] = [];
  for (let i = 0; i < lines.length; i++) {
    const action = parseObject(lines[i]!);
    const op = action === undefined ? undefined : Object.keys(action)[0];
    if (action === undefined || op === undefined || !ops.has(op)) return requestError(res, 400, "illegal_argument_exception", `Malformed action/metadata line [${i + 1}], expected a simple value for field [${op ?? ""}] but found [START_OBJECT]`);
    const meta = (action[op] ?? {}) as { _index?: string; _id?: string };
    const index = meta._index ?? (pathIndex === undefined ? undefined : decodeURIComponent(pathIndex));
    if (index === undefined) return requestError(res, 400, "action_request_validation_exception", "Validation Failed: 1: index is missing;");
    if (op === "delete") continue;
    const sourceLine = lines[++i] ?? "";
    const source = parseObject(sourceLine);
    if (source === undefined) {
      items.push({ [op]: { _index: index, _id: meta._id ?? null, status: 400, error: { type: "document_parsing_exception", reason: `[1:1] failed to parse: ${sourceLine.slice(0, 40)}` } } });
      continue;
    }
    items.push({ [op]: writeItem(state, { op, index, id: meta._id, source }, principal, allowed) });
  }
  const statuses = items.map((item) => (Object.values(item)[0] as { status: number }).status);
  state.bulkItemStatuses.push(statuses);
  const errors = statuses.some((status) => status >= 300);
  sendJson(res, 200, filterPath({ took: Date.now() - started, errors, items }, req.query.get("filter_path")));
}
