import { Router, type Request } from "express";
import { z } from "zod";
import { createTenant } from "@trailkeeper/core/db/event-store.ts";
import { inTransaction, type Pool } from "@trailkeeper/core/db/pool.ts";
import { storableText, tenantIdSchema } from "@trailkeeper/core/events/model.ts";
import type { NoteSigner } from "@trailkeeper/core/integrity/signing-key.ts";
import { requireAdmin } from "../auth.ts";
import { fieldErrors, Problem } from "../problem.ts";
import { createApiKey, listApiKeys, revokeApiKey, scopes, type ApiKeyResolver } from "../services/api-keys.ts";
import { maxRetentionDays, pruneTenant, readRetention, setLegalHold, setRetentionDays } from "../services/retention.ts";
import { defaultLinkScopes, defaultLinkTtlSeconds, listLinks, mintLink, revokeLink } from "../services/viewer-sessions.ts";
import { mintedLinkBody, mintViewerLinkSchema, optionalJsonBody, requestOrigin } from "./console-sessions.ts";
import { jsonBody } from "./events.ts";

export const createTenantSchema = z.strictObject({ id: tenantIdSchema });
export const createApiKeySchema = z
  .strictObject({
    scopes: z.array(z.enum(scopes)).min(1).refine((s) => new Set(s).size === s.length, "scopes must not repeat"),
    name: storableText(128).optional(),
  });

export const retentionSchema = z.strictObject({ retentionDays: z.number().int().min(1).max(maxRetentionDays).nullable() });
export const legalHoldSchema = z.strictObject({ hold: z.boolean(), reason: storableText(512).optional() });

function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const r = schema.safeParse(body);
  if (!r.success) throw new Problem(400, "invalid_request", "the request body is not valid", fieldErrors(r.error));
  return r.data;
}

/** The path's tenant; one that is not a tenant id cannot exist (and NUL would not even reach PostgreSQL). */
function tenantParam(req: Request): string {
  const tenant = req.params.tenant as string;
  if (!tenantIdSchema.safeParse(tenant).success) throw new Problem(404, "unknown_tenant", `tenant ${JSON.stringify(tenant)} does not exist`);
  return tenant;
}

async function tenantExists(pool: Pool, tenant: string): Promise<void> {
  const res = await pool.query("SELECT 1 FROM tenants WHERE id = $1", [tenant]);
  if (res.rowCount === 0) throw new Problem(404, "unknown_tenant", `tenant ${tenant} does not exist`);
}

export function adminRouter(deps: { pool: Pool; adminToken: string; resolver: ApiKeyResolver; publicUrl?: string | undefined; signer: NoteSigner; logName: string }): Router {
  const r = Router();
  const { pool } = deps;
  r.use("/v1/admin", requireAdmin(deps.adminToken));

  r.post("/v1/admin/tenants", jsonBody(), async (req, res) => {
    const { id } = parse(createTenantSchema, req.body);
    const created = await inTransaction(pool, (c) => createTenant(c, id));
    res.status(created ? 201 : 200).json({ id, created });
  });

  r.post("/v1/admin/tenants/:tenant/api-keys", jsonBody(), async (req, res) => {
    const body = parse(createApiKeySchema, req.body);
    const tenant = tenantParam(req);
    await tenantExists(pool, tenant);
    const key = await createApiKey(pool, tenant, body.scopes, body.name ?? null);
    res.status(201).json({ id: key.id, key: key.key, scopes: key.scopes, name: key.name, prefix: key.prefix });
  });

  r.get("/v1/admin/tenants/:tenant/api-keys", async (req, res) => {
    const tenant = tenantParam(req);
    await tenantExists(pool, tenant);
    res.json({ apiKeys: await listApiKeys(pool, tenant) });
  });

  r.delete("/v1/admin/tenants/:tenant/api-keys/:id", async (req, res) => {
    const tenant = tenantParam(req);
    const id = req.params.id as string;
    if (!z.uuid().safeParse(id).success) throw new Problem(404, "unknown_api_key", `no API key ${id}`);
    if (!(await revokeApiKey(pool, tenant, id))) throw new Problem(404, "unknown_api_key", `tenant ${tenant} has no live API key ${id}`);
    deps.resolver.forget(id);
    res.status(204).end();
  });

  r.post("/v1/admin/tenants/:tenant/viewer-sessions", optionalJsonBody(), async (req, res) => {
    const body = parse(mintViewerLinkSchema, req.body);
    const tenant = tenantParam(req);
    await tenantExists(pool, tenant);
    const mint = { tenant, scopes: body.scopes ?? [...defaultLinkScopes], subject: body.subject ?? null, ttlSeconds: body.ttlSeconds ?? defaultLinkTtlSeconds, minter: { kind: "admin" as const } };
    const link = await mintLink(pool, mint, requestOrigin(req));
    res.status(201).set("cache-control", "no-store").json(mintedLinkBody(req, deps.publicUrl, link));
  });

  r.get("/v1/admin/tenants/:tenant/viewer-sessions", async (req, res) => {
    const tenant = tenantParam(req);
    await tenantExists(pool, tenant);
    res.json({ viewerSessions: await listLinks(pool, tenant) });
  });

  r.delete("/v1/admin/tenants/:tenant/viewer-sessions/:id", async (req, res) => {
    const tenant = tenantParam(req);
    const id = req.params.id as string;
    if (!z.uuid().safeParse(id).success) throw new Problem(404, "unknown_viewer_session", `no viewer session ${id}`);
    if (!(await revokeLink(pool, tenant, id, requestOrigin(req)))) throw new Problem(404, "unknown_viewer_session", `tenant ${tenant} has no unrevoked viewer session ${id}`);
    res.status(204).end();
  });

  r.get("/v1/admin/tenants/:tenant/retention", async (req, res) => {
    const tenant = tenantParam(req);
    await tenantExists(pool, tenant);
    res.json(await readRetention(pool, tenant));
  });

  r.put("/v1/admin/tenants/:tenant/retention", jsonBody(), async (req, res) => {
    const body = parse(retentionSchema, req.body);
    const tenant = tenantParam(req);
    await tenantExists(pool, tenant);
    res.json(await setRetentionDays(pool, tenant, body.retentionDays));
  });

  r.put("/v1/admin/tenants/:tenant/legal-hold", jsonBody(), async (req, res) => {
    const body = parse(legalHoldSchema, req.body);
    const tenant = tenantParam(req);
    await tenantExists(pool, tenant);
    res.json(await setLegalHold(pool, tenant, body.hold, body.reason ?? null));
  });

  // Prunes now what the periodic job would prune on its next round.
  r.post("/v1/admin/tenants/:tenant/prune", async (req, res) => {
    const tenant = tenantParam(req);
    await tenantExists(pool, tenant);
    const result = await pruneTenant(pool, deps.signer, deps.logName, tenant);
    if (result.skipped === "legal_hold") throw new Problem(409, "legal_hold", `tenant ${tenant} is under legal hold: nothing is pruned until it is released`);
    res.json(result);
  });
  return r;
}
