import { randomUUID } from "node:crypto";
import express, { type Express } from "express";
import type { Pool } from "@trailkeeper/core/db/pool.ts";
import type { NoteSigner, NoteVerifier } from "@trailkeeper/core/integrity/signing-key.ts";
import type { Logger } from "@trailkeeper/core/log.ts";
import type { ApiMetrics } from "./metrics.ts";
import { Problem, problemHandler } from "./problem.ts";
import type { ConsoleOptions } from "./console-config.ts";
import type { ConfigCluster } from "./kube/types.ts";
import { adminRouter } from "./routes/admin.ts";
import { consoleSessionsRouter } from "./routes/console-sessions.ts";
import { configSaveRouter } from "./routes/config-save.ts";
import { configTestRouter, defaultConfigTestOptions, type ConfigTestOptions } from "./routes/config-test.ts";
import { consoleStaticRouter } from "./routes/console-static.ts";
import { destinationsRouter } from "./routes/destinations.ts";
import { eventsRouter } from "./routes/events.ts";
import { integrityRouter } from "./routes/integrity.ts";
import { proofsRouter } from "./routes/proofs.ts";
import { opsRouter } from "./routes/ops.ts";
import { parseQueryString } from "./routes/query-params.ts";
import { searchRouter } from "./routes/search.ts";
import { ApiKeyResolver } from "./services/api-keys.ts";
import type { IngestBatcher } from "./services/ingest.ts";
import { ReadReplica } from "./services/read-replica.ts";
import type { StreamingReads } from "./services/streaming-reads.ts";

export interface AppDeps {
  pool: Pool;
  log: Logger;
  metrics: ApiMetrics;
  batcher: IngestBatcher;
  adminToken: string;
  signer: NoteSigner;
  verifier: NoteVerifier;
  logName: string;
  isShuttingDown: () => boolean;
  console: ConsoleOptions;
  /** Admission of exports and verifications, which hold a connection as long as their client takes. */
  streamingReads: StreamingReads;
  /** Where search, export and verification read (DATABASE_READ_URL); unset: the primary. */
  reads?: ReadReplica;
  /** Save through the Kubernetes API (TRAILKEEPER_KUBERNETES_ACCESS); undefined when off. */
  kubernetes?: { cluster: ConfigCluster; namespaces: readonly string[] } | undefined;
  /** Test before saving: the egress policy and the per-tenant rate limit (defaults: the operator's policy, 10/min). */
  configTests?: ConfigTestOptions | undefined;
}

/** The express app without `listen`, so tests run it in-process on port 0 against a real database. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", false);
  // Strict UTF-8: a query string is never silently altered before it is validated (or recorded, for exports).
  app.set("query parser", parseQueryString);
  const resolver = new ApiKeyResolver(deps.pool);

  app.use((req, res, next) => {
    const requestId = req.get("x-request-id")?.slice(0, 128) || randomUUID();
    res.set("x-request-id", requestId);
    const start = process.hrtime.bigint();
    res.on("finish", () => {
      const route = req.route?.path ? String(req.route.path) : "unmatched";
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      deps.metrics.requests.inc({ method: req.method, route, status: String(res.statusCode) });
      deps.metrics.latency.observe({ method: req.method, route }, seconds);
      if (route !== "/healthz" && route !== "/readyz" && route !== "/metrics") {
        deps.log.info("request", { requestId, method: req.method, route, status: res.statusCode, ms: Math.round(seconds * 1000), tenant: req.principal?.tenant });
      }
    });
    next();
  });

  const reads = deps.reads ?? new ReadReplica({ primary: deps.pool, maxLagMs: 0, waitMs: 0, log: deps.log });
  app.use(opsRouter({ ...deps, reads }));
  app.use(eventsRouter({ resolver, batcher: deps.batcher }));
  app.use(searchRouter({ reads, resolver, batcher: deps.batcher, log: deps.log, streamingReads: deps.streamingReads }));
  app.use(integrityRouter({ pool: deps.pool, reads, resolver, signer: deps.signer, verifier: deps.verifier, logName: deps.logName, streamingReads: deps.streamingReads }));
  app.use(proofsRouter({ pool: deps.pool, resolver }));
  app.use(consoleSessionsRouter({ pool: deps.pool, resolver, console: deps.console }));
  app.use(adminRouter({ pool: deps.pool, adminToken: deps.adminToken, resolver, publicUrl: deps.console.publicUrl, signer: deps.signer, logName: deps.logName }));
  app.use(destinationsRouter({ pool: deps.pool, resolver }));
  app.use(configTestRouter({ pool: deps.pool, resolver, log: deps.log, options: deps.configTests ?? defaultConfigTestOptions }));
  app.use(configSaveRouter({ pool: deps.pool, resolver, cluster: deps.kubernetes?.cluster, namespaces: deps.kubernetes?.namespaces ?? [] }));
  // After every API and ops route: the console answers the GETs nothing else matched.
  app.use(consoleStaticRouter(deps.console));
  app.use((req, _res, next) => next(new Problem(404, "not_found", `no route for ${req.method} ${req.path}`)));
  app.use(problemHandler((err, req) => deps.log.error("unhandled error", { err, path: req.path })));
  return app;
}
