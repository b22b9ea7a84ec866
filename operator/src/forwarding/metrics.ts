import client from "prom-client";

export interface ForwardingMetrics {
  delivered: client.Counter<"destination" | "type">;
  failed: client.Counter<"destination" | "type">;
  deadLettered: client.Counter<"destination" | "type">;
  lagEvents: client.Gauge<"destination" | "type">;
  lagSeconds: client.Gauge<"destination" | "type">;
}

export function createForwardingMetrics(registry: client.Registry): ForwardingMetrics {
  const registers = [registry];
  const labelNames = ["destination", "type"] as const;
  return {
    delivered: new client.Counter({ name: "trailkeeper_forward_delivered_events_total", help: "Events the destination acknowledged", labelNames, registers }),
    failed: new client.Counter({ name: "trailkeeper_forward_failed_attempts_total", help: "Failed delivery attempts", labelNames, registers }),
    deadLettered: new client.Counter({ name: "trailkeeper_forward_dead_lettered_events_total", help: "Events rejected for good and dead-lettered", labelNames, registers }),
    lagEvents: new client.Gauge({ name: "trailkeeper_forward_lag_events", help: "Tenant events not yet past the delivery cursor", labelNames, registers }),
    lagSeconds: new client.Gauge({ name: "trailkeeper_forward_lag_seconds", help: "Age of the oldest undelivered event", labelNames, registers }),
  };
}
