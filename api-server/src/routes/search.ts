import { pipeline } from "node:stream/promises";
import { Router, type Response } from "express";
import { z } from "zod";
import { rowToSerialisableEvent, type EventRow } from "@trailkeeper/core/db/event-rows.ts";
import type { Pool } from "@trailkeeper/core/db/pool.ts";
import { forEachRow, withConnection, withCopyOut } from "@trailkeeper/core/db/stream.ts";
import { toPendingEvent, type StoredEvent } from "@trailkeeper/core/events/model.ts";
import { canonicalEventJson } from "@trailkeeper/core/events/canonical-event.ts";
import { csvHeader } from "@trailkeeper/core/export/csv.ts";
import { crlfRecords } from "@trailkeeper/core/export/csv-copy.ts";
import { uuidv7 } from "@trailkeeper/core/ids.ts";
import { eventFilterSchema, isUnfiltered, type EventFilter } from "@trailkeeper/core/search/filters.ts";
import { exportCsvCopyStatement, exportQuery, searchEvents } from "@trailkeeper/core/search/query.ts";
import { requireScope } from "../auth.ts";
import type { ApiKeyPrincipal, ApiKeyResolver } from "../services/api-keys.ts";
import type { IngestBatcher } from "../services/ingest.ts";
import { decodeCursor, encodeCursor, pageSchema, parseQuery, rawFilter } from "./query-params.ts";

const exportParams = z.object({
  format: z.enum(["csv", "jsonl"], { message: "format must be csv or jsonl" }),
  bom: z.enum(["0", "1"]).optional(),
});

function exportFileName(tenant: string, format: string, filtered: boolean): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  return `trailkeeper-${tenant}-${stamp}${filtered ? "-filtered" : ""}.${format}`;
}

/**
 * The export is recorded in the tenant's own chain before any row is sent, and the export runs through that
 * record: an unfiltered export ends with its own `audit.export` event, whose time tells an offline verifier
 * which signed checkpoints the export must already contain.
 */
async function recordExport(batcher: IngestBatcher, p: ApiKeyPrincipal, format: string, filters: Record<string, string>): Promise<number> {
  const now = new Date();
  const event = toPendingEvent(
    { actor: { id: p.keyId, type: "service" }, action: "audit.export", resource: { type: "export", id: format }, outcome: "success", details: { format, filters } },
    p.tenant,
    uuidv7(now.getTime()),
    now,
  );
  const [ref] = await batcher.append(p.tenant, [event], { newIds: true });
  return ref!.seq;
}

/** A JSONL line: the event's canonical form with `hash` appended as the last member. */
function jsonlLine(e: StoredEvent): string {
  return `${canonicalEventJson(e).slice(0, -1)},"hash":${JSON.stringify(e.hash)}}\n`;
}

/**
 * CSV comes straight out of PostgreSQL (COPY … WITH (FORMAT csv), see export/csv-copy.ts): no row becomes a JS
 * object, which makes the export about as fast as a bare COPY.
 */
function streamCsv(pool: Pool, tenant: string, filter: EventFilter, head: number, bom: boolean, res: Response): Promise<void> {
  res.write(`${bom ? "\uFEFF" : ""}${csvHeader()}`);
  return withCopyOut(pool, exportCsvCopyStatement(tenant, filter, head), (data) => pipeline(data, crlfRecords(), res));
}

/**
 * JSONL lines are built here (the stored event's canonical form plus its hash) and handed to the socket in
 * ~64 KiB writes: one HTTP chunk per line would cost more than producing the line. A slow client makes the rows
 * wait (drain); a client that goes away fails the wait, which ends the query.
 */
async function streamJsonl(pool: Pool, tenant: string, filter: EventFilter, head: number, res: Response): Promise<void> {
  const q = exportQuery(tenant, filter, head);
  let pending = "";
  const flush = () => {
    const out = pending;
    pending = "";
    return res.write(out) ? undefined : drained(res);
  };
  await withConnection(pool, (client) =>
    forEachRow<EventRow>(client, q.text, q.values, (row) => {
      pending += jsonlLine(rowToSerialisableEvent(row));
      return pending.length < 65_536 ? undefined : flush();
    }),
  );
  if (pending) await flush();
  res.end();
}

function drained(res: Response): Promise<void> {
  if (res.destroyed || res.writableEnded) return Promise.reject(new Error("the client went away"));
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      res.off("drain", onDrain);
      res.off("close", onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new Error("the client went away"));
    res.on("drain", onDrain);
    res.on("close", onClose);
  });
}

export function searchRouter(deps: { pool: Pool; resolver: ApiKeyResolver; batcher: IngestBatcher }): Router {
  const r = Router();
  const { pool } = deps;

  r.get("/v1/events", requireScope(deps.resolver, "events:read"), async (req, res) => {
    const query = req.query as Record<string, unknown>;
    const [page, filter] = parseQuery(query, pageSchema, eventFilterSchema);
    const before = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
    const { events, nextBeforeSeq } = await searchEvents(pool, req.principal!.tenant, filter, page.limit, before);
    res.json({ events, nextCursor: nextBeforeSeq === null ? null : encodeCursor(nextBeforeSeq) });
  });

  r.get("/v1/events/export", requireScope(deps.resolver, "events:export"), async (req, res) => {
    const query = req.query as Record<string, unknown>;
    const [{ format, bom }, filter] = parseQuery(query, exportParams, eventFilterSchema);
    const tenant = req.principal!.tenant;
    const head = await recordExport(deps.batcher, req.principal!, format, rawFilter(query));

    res.status(200);
    res.set("content-type", format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8");
    res.set("content-disposition", `attachment; filename="${exportFileName(tenant, format, !isUnfiltered(filter))}"`);
    res.set("trailkeeper-export-through-seq", String(head));
    const streamed =
      format === "csv"
        ? streamCsv(pool, tenant, filter, head, bom === "1", res)
        : streamJsonl(pool, tenant, filter, head, res);
    await streamed.catch((err: unknown) => {
      // Headers are gone: a failure mid-stream can only cut the response short, which clients detect.
      if (!res.headersSent) throw err;
      res.destroy();
    });
  });
  return r;
}
