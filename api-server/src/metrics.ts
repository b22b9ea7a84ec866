import client from "prom-client";
import type { Pool } from "@trailkeeper/core/db/pool.ts";

export interface ApiMetrics {
  registry: client.Registry;
  requests: client.Counter<"method" | "route" | "status">;
  latency: client.Histogram<"method" | "route">;
  eventsAppended: client.Counter;
  batchSize: client.Histogram;
  appendPaths: client.Counter<"path">;
  searchIndexLag: client.Gauge;
  searchDocuments: client.Counter;
}

export function createMetrics(pool: Pool): ApiMetrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const m: ApiMetrics = {
    registry,
    requests: new client.Counter({ name: "trailkeeper_http_requests_total", help: "HTTP requests by route and status", labelNames: ["method", "route", "status"], registers: [registry] }),
    latency: new client.Histogram({
      name: "trailkeeper_http_request_duration_seconds", help: "HTTP request latency", labelNames: ["method", "route"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry],
    }),
    eventsAppended: new client.Counter({ name: "trailkeeper_events_appended_total", help: "Events appended to chains", registers: [registry] }),
    batchSize: new client.Histogram({
      name: "trailkeeper_append_transaction_events", help: "Events per append transaction (group commit size)",
      buckets: [1, 2, 5, 10, 50, 100, 500, 1000, 2000, 5000], registers: [registry],
    }),
    appendPaths: new client.Counter({
      name: "trailkeeper_append_groups_total",
      help: "Appended groups by path: optimistic (one statement at the known head), stale_head (another writer had moved the head; appended by locking), locking",
      labelNames: ["path"], registers: [registry],
    }),
    searchIndexLag: new client.Gauge({
      name: "trailkeeper_search_index_lag_events",
      help: "Events without a stored search document after the search indexer's last round, over all tenants (searched by recomputing the document)",
      registers: [registry],
    }),
    searchDocuments: new client.Counter({ name: "trailkeeper_search_documents_indexed_total", help: "Search documents written by this replica's search indexer", registers: [registry] }),
  };
  const poolGauge = (name: string, help: string, read: () => number) =>
    new client.Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
  poolGauge("trailkeeper_db_pool_connections", "Connections open in the database pool", () => pool.totalCount);
  poolGauge("trailkeeper_db_pool_idle", "Idle connections in the database pool", () => pool.idleCount);
  poolGauge("trailkeeper_db_pool_waiting", "Queries waiting for a pool connection", () => pool.waitingCount);
  return m;
}
