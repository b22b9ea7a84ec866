import { Router } from "express";
import { z } from "zod";
import type { Pool } from "@trailkeeper/core/db/pool.ts";
import type { Logger } from "@trailkeeper/core/log.ts";
import { eventFilterSchema } from "@trailkeeper/core/search/filters.ts";
import { searchEvents } from "@trailkeeper/core/search/query.ts";
import { requireScope } from "../auth.ts";
import type { ApiKeyResolver } from "../services/api-keys.ts";
import { runExport } from "../services/export.ts";
import type { IngestBatcher } from "../services/ingest.ts";
import type { StreamingReads } from "../services/streaming-reads.ts";
import { decodeCursor, encodeCursor, pageSchema, parseQuery, rawFilter } from "./query-params.ts";

const exportParams = z.object({
  format: z.enum(["csv", "jsonl"], { message: "format must be csv or jsonl" }),
  bom: z.enum(["0", "1"]).optional(),
});

/** A client's request id goes into the export's records only when it is a plain token. */
const recordableRequestId = (id: string | undefined) => (id && /^[\x21-\x7e]{1,128}$/.test(id) ? id : undefined);

export interface SearchRouterDeps {
  pool: Pool;
  resolver: ApiKeyResolver;
  batcher: IngestBatcher;
  log: Logger;
  streamingReads: StreamingReads;
}

export function searchRouter(deps: SearchRouterDeps): Router {
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
    const principal = req.principal!;
    const done = await deps.streamingReads.admit(principal.tenant);
    try {
      if (res.destroyed) return; // the client left while waiting for a connection: nothing ran, nothing to record
      const { stallTimeoutMs, statementTimeoutMs } = deps.streamingReads.limits;
      await runExport(
        { pool, batcher: deps.batcher, log: deps.log, stallTimeoutMs, statementTimeoutMs },
        { principal, format, bom: bom === "1", filter, filters: rawFilter(query), requestId: recordableRequestId(res.get("x-request-id")) },
        res,
      );
    } finally {
      done();
    }
  });
  return r;
}
