import { Router } from "express";
import { z } from "zod";
import type { Logger } from "@trailkeeper/core/log.ts";
import { eventFilterSchema } from "@trailkeeper/core/search/filters.ts";
import { eventById, searchEvents } from "@trailkeeper/core/search/query.ts";
import { requireScope } from "../auth.ts";
import { Problem } from "../problem.ts";
import type { ApiKeyResolver } from "../services/api-keys.ts";
import { runExport } from "../services/export.ts";
import type { IngestBatcher } from "../services/ingest.ts";
import type { ReadReplica } from "../services/read-replica.ts";
import type { StreamingReads } from "../services/streaming-reads.ts";
import { decodeCursor, encodeCursor, pageSchema, parseQuery, rawFilter } from "./query-params.ts";

/**
 * Read-your-writes: `minSeq` (the seq an ingest answered) makes a search include that event. With a read replica
 * the search waits a bounded time for the replica to apply it, else the primary answers.
 */
const consistencyParams = z.object({ minSeq: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional() });

const exportParams = z.object({
  format: z.enum(["csv", "jsonl"], { message: "format must be csv or jsonl" }),
  bom: z.enum(["0", "1"]).optional(),
});

/** A client's request id goes into the export's records only when it is a plain token. */
const recordableRequestId = (id: string | undefined) => (id && /^[\x21-\x7e]{1,128}$/.test(id) ? id : undefined);

export interface SearchRouterDeps {
  /** Where searches and exports read: the replica when one is configured and current enough, else the primary. */
  reads: ReadReplica;
  resolver: ApiKeyResolver;
  batcher: IngestBatcher;
  log: Logger;
  streamingReads: StreamingReads;
}

export function searchRouter(deps: SearchRouterDeps): Router {
  const r = Router();

  r.get("/v1/events", requireScope(deps.resolver, "events:read"), async (req, res) => {
    const query = req.query as Record<string, unknown>;
    const [page, filter, { minSeq }] = parseQuery(query, pageSchema, eventFilterSchema, consistencyParams);
    const before = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
    const tenant = req.principal!.tenant;
    // A next page continues below `before`: the server that answers must hold every event below it, or the page
    // would skip events that the previous page's server (the primary, say) already had.
    const needSeq = before === undefined ? minSeq : Math.max(minSeq ?? 0, before - 1);
    const { events, nextBeforeSeq } = await deps.reads.read("search", tenant, (db) => searchEvents(db, tenant, filter, page.limit, before), { needSeq });
    res.json({ events, nextCursor: nextBeforeSeq === null ? null : encodeCursor(nextBeforeSeq) });
  });

  r.get("/v1/events/export", requireScope(deps.resolver, "events:export"), async (req, res) => {
    const query = req.query as Record<string, unknown>;
    const [{ format, bom }, filter] = parseQuery(query, exportParams, eventFilterSchema);
    const principal = req.principal!;
    const done = await deps.streamingReads.admit(principal.tenant);
    try {
      if (res.destroyed) return; // the client left while waiting for a connection: nothing ran, nothing to record
      const { stallTimeoutMs, statementTimeoutMs } = deps.streamingReads.limits;
      await runExport(
        { reads: deps.reads, batcher: deps.batcher, log: deps.log, stallTimeoutMs, statementTimeoutMs, cutByShutdown: () => deps.streamingReads.cutByShutdown },
        { principal, format, bom: bom === "1", filter, filters: rawFilter(query), requestId: recordableRequestId(res.get("x-request-id")) },
        res,
      );
    } finally {
      done();
    }
  });
  // After /v1/events/export, so that path is never taken for an id. `minSeq` (the event's seq) makes a replica that
  // has not applied it yet wait or hand the read to the primary, as in search, instead of answering 404.
  r.get("/v1/events/:id", requireScope(deps.resolver, "events:read"), async (req, res) => {
    const [{ minSeq }] = parseQuery(req.query as Record<string, unknown>, consistencyParams);
    const id = String(req.params.id).toLowerCase();
    const tenant = req.principal!.tenant;
    const event = z.uuid().safeParse(id).success ? await deps.reads.read("search", tenant, (db) => eventById(db, tenant, id), { needSeq: minSeq }) : undefined;
    if (!event) throw new Problem(404, "unknown_event", `no event ${String(req.params.id).slice(0, 100)}`);
    res.json(event);
  });
  return r;
}
