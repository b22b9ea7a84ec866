import { Router } from "express";
import { UnknownTenantError } from "@trailkeeper/core/db/event-store.ts";
import { eventInputSchema, ingestBodySchema, maxBatchEvents, toPendingEvent, type ParsedEventInput } from "@trailkeeper/core/events/model.ts";
import { uuidv7 } from "@trailkeeper/core/ids.ts";
import { requireScope } from "../auth.ts";
import { fieldErrors, Problem } from "../problem.ts";
import type { ApiKeyResolver } from "../services/api-keys.ts";
import type { IngestBatcher } from "../services/ingest.ts";
import { jsonBody } from "./json-body.ts";

export { jsonBody } from "./json-body.ts";

/** Validates a whole request; any problem rejects all of it, listing every offending field. */
export function parseIngestBody(body: unknown, tenant: string): ParsedEventInput[] {
  const isBatch = typeof body === "object" && body !== null && !Array.isArray(body) && "events" in body;
  if (isBatch) {
    const events = (body as { events: unknown }).events;
    if (Array.isArray(events) && events.length > maxBatchEvents) {
      throw new Problem(413, "too_many_events", `a batch holds at most ${maxBatchEvents} events, got ${events.length}`);
    }
  }
  const parsed = (isBatch ? ingestBodySchema.options[0] : eventInputSchema).safeParse(body);
  if (!parsed.success) {
    const errors = fieldErrors(parsed.error);
    const unknownPrefix = parsed.error.issues.some((i) => i.code === "custom" && (i.params as { code?: string } | undefined)?.code === "unknown_action_prefix");
    throw new Problem(400, unknownPrefix ? "unknown_action_prefix" : "invalid_event", unknownPrefix ? errors.find((e) => e.path.endsWith("action"))!.message : "the request body does not match the event schema", errors);
  }
  const events: ParsedEventInput[] = "events" in parsed.data ? parsed.data.events : [parsed.data];
  const seen = new Set<string>();
  events.forEach((e, i) => {
    const path = isBatch ? `events[${i}]` : "";
    if (e.tenant !== undefined && e.tenant !== tenant) {
      throw new Problem(403, "tenant_mismatch", `the API key belongs to tenant ${tenant}; an event may not name another tenant`, [{ path: `${path}${path ? "." : ""}tenant`, message: "does not match the API key's tenant" }]);
    }
    if (e.id !== undefined) {
      if (seen.has(e.id)) throw new Problem(400, "duplicate_id_in_batch", `id ${e.id} appears more than once in the batch`, [{ path: `${path}.id`, message: "repeats an earlier id in this batch" }]);
      seen.add(e.id);
    }
  });
  return events;
}

export function eventsRouter(deps: { resolver: ApiKeyResolver; batcher: IngestBatcher }): Router {
  const r = Router();
  r.post("/v1/events", requireScope(deps.resolver, "events:write"), jsonBody(), async (req, res) => {
    const tenant = req.principal!.tenant;
    const inputs = parseIngestBody(req.body, tenant);
    const receivedAt = new Date();
    const pending = inputs.map((e) => toPendingEvent(e, tenant, e.id ?? uuidv7(receivedAt.getTime()), receivedAt));
    try {
      const refs = await deps.batcher.append(tenant, pending, { newIds: inputs.every((e) => e.id === undefined) });
      const allDuplicates = refs.every((r) => r.duplicate);
      res.status(allDuplicates ? 200 : 201).json({
        events: refs.map((ref) => ({ id: ref.id, seq: ref.seq, hash: ref.hash, ...(ref.duplicate ? { duplicate: true } : {}) })),
      });
    } catch (err) {
      if (err instanceof UnknownTenantError) throw new Problem(403, "unknown_tenant", err.message);
      throw err;
    }
  });
  return r;
}
