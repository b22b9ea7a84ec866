import { Router } from "express";
import { migrationsApplied } from "@trailkeeper/core/db/migrate.ts";
import type { Pool } from "@trailkeeper/core/db/pool.ts";
import type { ApiMetrics } from "../metrics.ts";
import { openApiDocument } from "../openapi.ts";
import type { ReadReplica } from "../services/read-replica.ts";

export function opsRouter(deps: { pool: Pool; metrics: ApiMetrics; isShuttingDown: () => boolean; reads: ReadReplica }): Router {
  const r = Router();
  r.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  r.get("/readyz", async (_req, res) => {
    if (deps.isShuttingDown()) return void res.status(503).json({ status: "shutting down" });
    // Reachability first: migrationsApplied reads a failed query as "not applied".
    const reachable = await deps.pool.query("SELECT 1").then(() => true, () => false);
    if (!reachable) return void res.status(503).json({ status: "database unreachable" });
    if (!(await migrationsApplied(deps.pool))) return void res.status(503).json({ status: "migrations pending" });
    // The replica is reported, never required: while it is unreachable or lagging the primary serves its reads.
    const readReplica = deps.reads.readiness();
    res.json({ status: "ready", ...(readReplica ? { readReplica } : {}) });
  });
  r.get("/metrics", async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  const doc = openApiDocument();
  r.get("/openapi.json", (_req, res) => {
    res.json(doc);
  });
  return r;
}
