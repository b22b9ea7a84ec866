import client from "prom-client";

/** Witnessing counters, labelled by the RecordingStorage or LogForwardingDestination (`namespace/name`) and its kind. */
export interface WitnessMetrics {
  published: client.Counter<"target" | "kind">;
  failures: client.Counter<"target" | "kind">;
}

export function createWitnessMetrics(registry: client.Registry): WitnessMetrics {
  const registers = [registry];
  const labelNames = ["target", "kind"] as const;
  return {
    published: new client.Counter({ name: "trailkeeper_checkpoints_published_total", help: "Signed checkpoints written to a bucket or accepted by a destination", labelNames, registers }),
    failures: new client.Counter({ name: "trailkeeper_checkpoint_publish_failures_total", help: "Rounds in which publishing checkpoints to a bucket or destination failed", labelNames, registers }),
  };
}
