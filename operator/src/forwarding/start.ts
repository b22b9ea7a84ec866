import type client from "prom-client";
import { migrate } from "@trailkeeper/core/db/migrate.ts";
import { createPool, type Pool } from "@trailkeeper/core/db/pool.ts";
import { createSender } from "@trailkeeper/core/destinations/registry.ts";
import { AppendNotifier } from "@trailkeeper/core/forwarding/notifier.ts";
import type { Logger } from "@trailkeeper/core/log.ts";
import type { EgressPolicy } from "@trailkeeper/core/net/egress.ts";
import type { KubeGateway } from "../kube/gateway.ts";
import type { CustomObject } from "../kube/types.ts";
import type { Informer } from "../runtime/informer.ts";
import { createForwardingMetrics } from "./metrics.ts";
import { CheckpointForwarding } from "./checkpoint-forwarding.ts";
import { createWitnessMetrics, type WitnessMetrics } from "./witness-metrics.ts";
import { ForwardingSupervisor } from "./supervisor.ts";
import type { ResolvedDestination } from "../controllers/destination-catalog.ts";

export interface RunningForwarding {
  supervisor: ForwardingSupervisor;
  /** Signed checkpoints to every destination, as their checkpoint records (witnessing). */
  checkpoints: CheckpointForwarding;
  /** Counters of witnessing, shared with the bucket publisher. */
  witnessMetrics: WitnessMetrics;
  /** The audit database, shared with the config mirror. */
  pool: Pool;
  close(): Promise<void>;
}

/** Connects to the audit database (migrating it if needed, safe beside the API servers) and builds the supervisor. */
export async function startForwarding(o: {
  databaseUrl: string;
  statusIntervalMs: number;
  checkpointIntervalMs: number;
  gateway: KubeGateway;
  objects: Informer<CustomObject>;
  registry: client.Registry;
  egress: EgressPolicy;
  hostname: string;
  logger: Logger;
  /** Forwarding across replicas: this replica's identity and its cursor holds (supervisor.ts). */
  ownership?: { identity: string; leaseMs: number; renewEveryMs: number };
}): Promise<RunningForwarding> {
  const pool = createPool(o.databaseUrl, 10);
  await migrate(pool);
  const notifier = new AppendNotifier(o.databaseUrl, o.logger);
  await notifier.start();
  const makeSender = (d: ResolvedDestination) => createSender(d.spec, { secrets: d.secrets, egress: o.egress, destinationUid: d.uid, hostname: o.hostname });
  const supervisor = new ForwardingSupervisor({
    pool,
    notifier,
    gateway: o.gateway,
    objects: o.objects,
    metrics: createForwardingMetrics(o.registry),
    statusIntervalMs: o.statusIntervalMs,
    logger: o.logger.child({ component: "forwarding" }),
    makeSender,
    ...(o.ownership === undefined ? {} : { ownership: o.ownership }),
  });
  const witnessMetrics = createWitnessMetrics(o.registry);
  const checkpoints = new CheckpointForwarding({ pool, makeSender, intervalMs: o.checkpointIntervalMs, logger: o.logger.child({ component: "checkpoint-forwarding" }), metrics: witnessMetrics });
  return {
    supervisor,
    checkpoints,
    witnessMetrics,
    pool,
    async close() {
      await supervisor.stopAll();
      await checkpoints.stop();
      await notifier.stop();
      await pool.end();
    },
  };
}
