import type { Response } from "express";
import { rowToSerialisableEvent, type EventRow } from "@trailkeeper/core/db/event-rows.ts";
import { isDatabaseUnavailable, type Pool } from "@trailkeeper/core/db/pool.ts";
import { forEachRow, withConnection, withCopyOut } from "@trailkeeper/core/db/stream.ts";
import { canonicalEventJson } from "@trailkeeper/core/events/canonical-event.ts";
import { toPendingEvent, type Outcome, type StoredEvent } from "@trailkeeper/core/events/model.ts";
import { csvHeader } from "@trailkeeper/core/export/csv.ts";
import { copyCsvRecords } from "@trailkeeper/core/export/csv-copy.ts";
import { uuidv7 } from "@trailkeeper/core/ids.ts";
import type { Logger } from "@trailkeeper/core/log.ts";
import { isUnfiltered, type EventFilter } from "@trailkeeper/core/search/filters.ts";
import { exportCsvCopyStatement, exportQuery } from "@trailkeeper/core/search/query.ts";
import type { ApiKeyPrincipal } from "./api-keys.ts";
import { ExportSink } from "./export-sink.ts";
import type { IngestBatcher } from "./ingest.ts";
import type { ReadReplica } from "./read-replica.ts";

export interface ExportDeps {
  /** Where the rows are read: the replica once it has applied the opening record, else the primary. */
  reads: ReadReplica;
  batcher: IngestBatcher;
  log: Logger;
  stallTimeoutMs: number;
  statementTimeoutMs: number;
  /** Whether a shutdown has cut the open connections (an export that lost its client then was cut by the server). */
  cutByShutdown: () => boolean;
}

export interface ExportRequest {
  principal: ApiKeyPrincipal;
  format: "csv" | "jsonl";
  bom: boolean;
  filter: EventFilter;
  /** The filters as the client wrote them, for the records. */
  filters: Record<string, string>;
  requestId: string | undefined;
}

/** Why an export ended early, as recorded in its closing `audit.export` record. */
export type ExportFailureReason = "client_disconnected" | "shutdown" | "stalled" | "database_error" | "internal_error";

type ExportFailure = { outcome: "failure"; rows: number; reason: ExportFailureReason; message?: string };
type ExportEnd = { outcome: "success"; rows: number } | ExportFailure;

/**
 * Appends one `audit.export` record to the tenant's chain. The opening one (outcome `unknown`) is the export's
 * head: the export runs through it, so an unfiltered export ends with it and its time tells an offline verifier
 * which signed checkpoints the export must already contain. The closing one carries the outcome.
 */
async function recordExport(batcher: IngestBatcher, r: ExportRequest, outcome: Outcome, extra: Record<string, unknown> = {}): Promise<number> {
  const now = new Date();
  const event = toPendingEvent(
    {
      actor: { id: r.principal.keyId, type: "service" }, action: "audit.export", resource: { type: "export", id: r.format }, outcome,
      details: { format: r.format, filters: r.filters, ...extra }, ...(r.requestId ? { requestId: r.requestId } : {}),
    },
    r.principal.tenant,
    uuidv7(now.getTime()),
    now,
  );
  const [ref] = await batcher.append(r.principal.tenant, [event], { newIds: true });
  return ref!.seq;
}

function exportFileName(tenant: string, format: string, filtered: boolean): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  return `trailkeeper-${tenant}-${stamp}${filtered ? "-filtered" : ""}.${format}`;
}

/** A JSONL line: the event's canonical form with `hash` appended as the last member. */
function jsonlLine(e: StoredEvent): string {
  return `${canonicalEventJson(e).slice(0, -1)},"hash":${JSON.stringify(e.hash)}}\n`;
}

interface Progress {
  rows: number;
}

/**
 * JSONL lines are built here (the stored event's canonical form plus its hash) and handed to the socket in
 * ~64 KiB writes: one HTTP chunk per line would cost more than producing the line. A slow client makes the rows
 * wait; a client that goes away fails the wait, which ends the query.
 */
async function writeJsonl(deps: ExportDeps, pool: Pool, tenant: string, filter: EventFilter, head: number, sink: ExportSink, progress: Progress): Promise<void> {
  const q = exportQuery(tenant, filter, head);
  let pending = "";
  const flush = () => {
    const out = pending;
    pending = "";
    return sink.write(out);
  };
  await withConnection(pool, (client) =>
    forEachRow<EventRow>(client, q.text, q.values, (row) => {
      pending += jsonlLine(rowToSerialisableEvent(row));
      progress.rows += 1;
      return pending.length < 65_536 ? undefined : flush();
    }), { statementTimeoutMs: deps.statementTimeoutMs });
  if (pending) await flush();
}

/**
 * CSV comes straight out of PostgreSQL (COPY … WITH (FORMAT csv), see export/csv-copy.ts): no row becomes a JS
 * object, which makes the export about as fast as a bare COPY.
 */
async function writeCsv(deps: ExportDeps, pool: Pool, tenant: string, filter: EventFilter, head: number, bom: boolean, sink: ExportSink, progress: Progress): Promise<void> {
  // The header goes out once the connection is there, so that a replica that cannot be reached leaves nothing
  // written and the primary can take the export over.
  await withCopyOut(pool, exportCsvCopyStatement(tenant, filter, head), async (data) => {
    await sink.write(`${bom ? "\uFEFF" : ""}${csvHeader()}`);
    // COPY yields one small chunk per row: the socket gets them ~64 KiB at a time (per-write cost off each row).
    await copyCsvRecords(data, sink, (n) => (progress.rows += n));
  }, { statementTimeoutMs: deps.statementTimeoutMs });
}

/** Names what ended an export early; the client's side wins, since its going away also fails the query. */
function failureOf(err: unknown, sink: ExportSink, rows: number, cutByShutdown: boolean): ExportFailure {
  if (sink.stalled) return { outcome: "failure", rows, reason: "stalled" };
  if (sink.gone) return { outcome: "failure", rows, reason: cutByShutdown ? "shutdown" : "client_disconnected" };
  const code = (err as { code?: unknown }).code;
  if (isDatabaseUnavailable(err) || (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code))) {
    return { outcome: "failure", rows, reason: "database_error", message: String((err as Error).message).slice(0, 200) };
  }
  return { outcome: "failure", rows, reason: "internal_error" };
}

async function streamRows(deps: ExportDeps, r: ExportRequest, head: number, sink: ExportSink): Promise<ExportEnd> {
  const progress = { rows: 0 };
  const tenant = r.principal.tenant;
  try {
    // The rows come from the replica only once it has applied the opening record (`head`): an export never
    // misses rows it claims. A replica that fails before anything was written hands the export to the primary.
    await deps.reads.read("export", tenant, (pool) => {
      progress.rows = 0; // a retry starts over, which it may only do while nothing was written
      return r.format === "csv"
        ? writeCsv(deps, pool, tenant, r.filter, head, r.bom, sink, progress)
        : writeJsonl(deps, pool, tenant, r.filter, head, sink, progress);
    }, { needSeq: head, canRetry: () => sink.bytesWritten === 0 });
    await sink.flushed();
    return { outcome: "success", rows: progress.rows };
  } catch (err) {
    const end = failureOf(err, sink, progress.rows, deps.cutByShutdown());
    if (end.reason === "internal_error") deps.log.error("export failed", { err, tenant });
    return end;
  } finally {
    sink.stop();
  }
}

/**
 * Runs one export: the opening record, the headers, the rows, then the closing record. The response ends only
 * after a successful export's closing record is stored, so a client that received the whole file knows it is
 * recorded; an export that fails (or whose success cannot be recorded) is cut short, which clients detect.
 */
export async function runExport(deps: ExportDeps, r: ExportRequest, res: Response): Promise<void> {
  const head = await recordExport(deps.batcher, r, "unknown");
  res.status(200);
  res.set("content-type", r.format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8");
  res.set("content-disposition", `attachment; filename="${exportFileName(r.principal.tenant, r.format, !isUnfiltered(r.filter))}"`);
  res.set("trailkeeper-export-through-seq", String(head));
  // The status goes out now, not with the first rows: a failure before them can then only cut the body short.
  res.flushHeaders();
  const end = await streamRows(deps, r, head, new ExportSink(res, deps.stallTimeoutMs));
  const { outcome, ...details } = end;
  try {
    await recordExport(deps.batcher, r, outcome, { throughSeq: head, ...details });
  } catch (err) {
    deps.log.warn("could not record the end of an export", { err, tenant: r.principal.tenant, outcome });
    return void res.destroy();
  }
  if (outcome === "success") res.end();
  else res.destroy();
}
