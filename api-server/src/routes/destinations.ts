import { Router } from "express";
import { z } from "zod";
import { deliveryHistory, deliveryHistoryRetentionDays, getMirror, listMirror, type MirroredKind, type MirroredResource } from "@trailkeeper/core/db/config-mirror.ts";
import type { Pool } from "@trailkeeper/core/db/pool.ts";
import { listDeadLetters } from "@trailkeeper/core/forwarding/store.ts";
import { requireScope } from "../auth.ts";
import { Problem } from "../problem.ts";
import type { ApiKeyResolver } from "../services/api-keys.ts";
import { decodeCursor, encodeCursor, pageSchema, parseQuery } from "./query-params.ts";

/** What the API shows of a mirrored resource: the mirror row without the tenant (it is the caller's). */
function view(m: MirroredResource) {
  const { tenant: _tenant, kind: _kind, ...rest } = m;
  return rest;
}

/** The destination list leaves out each spec: the console polls it every few seconds, and reads one to edit it. */
function listView(m: MirroredResource) {
  const { spec: _spec, specRedacted: _redacted, ...rest } = view(m);
  return rest;
}

/** A Kubernetes name: anything else cannot exist, so it is a 404 rather than a query. */
const kubeName = z.string().max(253).regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);

async function mirrored(pool: Pool, tenant: string, kind: MirroredKind, namespace: string, name: string): Promise<MirroredResource> {
  const found = kubeName.safeParse(namespace).success && kubeName.safeParse(name).success ? await getMirror(pool, tenant, kind, namespace, name) : undefined;
  // Another tenant's resource is answered exactly like a missing one, so names do not leak across tenants.
  if (found === undefined) throw new Problem(404, "unknown_destination", `no ${kind} ${namespace}/${name}`);
  return found;
}

const historySchema = z.object({
  since: z.iso.datetime({ offset: true, message: "since must be an RFC 3339 time with an offset" }).optional()
    .describe(`Oldest sample to return; default 24 hours ago. History is kept ${deliveryHistoryRetentionDays} days.`),
});

/**
 * LogForwardingDestinations and RecordingStorages of the caller's tenant, read from the operator's config mirror
 * (docs/api.md); dead letters from the forwarding tables.
 */
export function destinationsRouter(deps: { pool: Pool; resolver: ApiKeyResolver }): Router {
  const r = Router();
  const scope = requireScope(deps.resolver, "config:read");

  r.get("/v1/destinations", scope, async (req, res) => {
    parseQuery(req.query as Record<string, unknown>);
    res.json({ destinations: (await listMirror(deps.pool, req.principal!.tenant, "LogForwardingDestination")).map(listView) });
  });

  r.get("/v1/destinations/:namespace/:name", scope, async (req, res) => {
    parseQuery(req.query as Record<string, unknown>);
    res.json(view(await mirrored(deps.pool, req.principal!.tenant, "LogForwardingDestination", String(req.params.namespace), String(req.params.name))));
  });

  r.get("/v1/destinations/:namespace/:name/dead-letters", scope, async (req, res) => {
    const [page] = parseQuery(req.query as Record<string, unknown>, pageSchema);
    const tenant = req.principal!.tenant;
    const destination = await mirrored(deps.pool, tenant, "LogForwardingDestination", String(req.params.namespace), String(req.params.name));
    const beforeId = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
    const deadLetters = await listDeadLetters(deps.pool, { uid: destination.uid, tenant, limit: page.limit, beforeId });
    const last = deadLetters.at(-1);
    res.json({ deadLetters, nextCursor: deadLetters.length === page.limit && last ? encodeCursor(last.id) : null });
  });

  r.get("/v1/destinations/:namespace/:name/delivery-history", scope, async (req, res) => {
    const [query] = parseQuery(req.query as Record<string, unknown>, historySchema);
    const destination = await mirrored(deps.pool, req.principal!.tenant, "LogForwardingDestination", String(req.params.namespace), String(req.params.name));
    const since = query.since === undefined ? new Date(Date.now() - 24 * 3600_000) : new Date(query.since);
    res.json({ samples: await deliveryHistory(deps.pool, destination.uid, since) });
  });

  r.get("/v1/recording-storages", scope, async (req, res) => {
    parseQuery(req.query as Record<string, unknown>);
    res.json({ recordingStorages: (await listMirror(deps.pool, req.principal!.tenant, "RecordingStorage")).map(view) });
  });
  return r;
}
