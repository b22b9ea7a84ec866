import client from "prom-client";

/** Prometheus metrics of the operator; names start with trailkeeper_operator_. */
export interface OperatorMetrics {
  registry: client.Registry;
  /** result: success | error | conflict | cancelled. */
  reconciles: client.Counter<"kind" | "result">;
  reconcileDuration: client.Histogram<"kind">;
  /** reason: Conflict, Forbidden, … (the API status reason) or Unexpected. */
  reconcileErrors: client.Counter<"kind" | "reason">;
  /** type: the destination block (webhook, splunkHec, …) or s3; reason: the check's CamelCase reason. */
  checks: client.Counter<"kind" | "type" | "reason">;
  checkDuration: client.Histogram<"kind" | "type">;
  statusWrites: client.Counter<"kind">;
  events: client.Counter<"kind" | "type" | "result">;
  /** reason: closed | expired | error | timeout | resync | forced. */
  watchRestarts: client.Counter<"resource" | "reason">;
  relists: client.Counter<"resource">;
  leader: client.Gauge;
  queueDepth: client.Gauge<"kind">;
}

export function createOperatorMetrics(): OperatorMetrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    reconciles: new client.Counter({ name: "trailkeeper_operator_reconciles_total", help: "Reconciles by kind and result", labelNames: ["kind", "result"], registers }),
    reconcileDuration: new client.Histogram({
      name: "trailkeeper_operator_reconcile_duration_seconds", help: "Reconcile duration, connectivity check included", labelNames: ["kind"],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120], registers,
    }),
    reconcileErrors: new client.Counter({ name: "trailkeeper_operator_reconcile_errors_total", help: "Failed reconciles by kind and error reason", labelNames: ["kind", "reason"], registers }),
    checks: new client.Counter({ name: "trailkeeper_operator_checks_total", help: "Connectivity checks by resource kind, destination type and outcome reason", labelNames: ["kind", "type", "reason"], registers }),
    checkDuration: new client.Histogram({
      name: "trailkeeper_operator_check_duration_seconds", help: "Connectivity check latency", labelNames: ["kind", "type"],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120], registers,
    }),
    statusWrites: new client.Counter({ name: "trailkeeper_operator_status_writes_total", help: "Status patches written (only when the status changed)", labelNames: ["kind"], registers }),
    events: new client.Counter({ name: "trailkeeper_operator_events_total", help: "Kubernetes Events emitted on condition transitions", labelNames: ["kind", "type", "result"], registers }),
    watchRestarts: new client.Counter({ name: "trailkeeper_operator_watch_restarts_total", help: "Watch streams restarted, by resource and reason", labelNames: ["resource", "reason"], registers }),
    relists: new client.Counter({ name: "trailkeeper_operator_relists_total", help: "Full lists of a resource (start, 410 Gone, periodic resync)", labelNames: ["resource"], registers }),
    leader: new client.Gauge({ name: "trailkeeper_operator_leader", help: "1 while this replica holds the leader Lease", registers }),
    queueDepth: new client.Gauge({ name: "trailkeeper_operator_queue_depth", help: "Keys waiting in the work queue", labelNames: ["kind"], registers }),
  };
}
