import type { LogForwardingDestinationSpec } from "@trailkeeper/core/crd/log-forwarding-destination.ts";
import { destinationKindOf } from "@trailkeeper/core/crd/log-forwarding-destination.ts";
import type { Logger } from "@trailkeeper/core/log.ts";
import type { EgressPolicy } from "@trailkeeper/core/net/egress.ts";
import type { OperatorConfig } from "./config.ts";
import type { CheckedKind } from "./controllers/checked-kind.ts";
import { CheckedResourceReconciler, type Resolved } from "./controllers/checked-resource-reconciler.ts";
import { DestinationCatalog, type ResolvedDestination } from "./controllers/destination-catalog.ts";
import { createEventRecorder, type EventRecorder } from "./controllers/event-recorder.ts";
import { logForwardingDestinationKind } from "./controllers/log-forwarding-destination.ts";
import { recordingStorageKind } from "./controllers/recording-storage.ts";
import { wireKind } from "./controllers/wiring.ts";
import { startHealthServer } from "./http/health-server.ts";
import { createInformers, type OperatorInformers } from "./informers.ts";
import { createKubeGateway, type KubeGateway } from "./kube/gateway.ts";
import type { CustomObject } from "./kube/types.ts";
import { createOperatorMetrics, type OperatorMetrics } from "./metrics.ts";
import { Controller } from "./runtime/controller.ts";
import { objectKey, type Informer } from "./runtime/informer.ts";
import { LeaderElector } from "./runtime/leader-election.ts";
import { startForwarding, type RunningForwarding } from "./forwarding/start.ts";
import { createSharding } from "./forwarding/sharding.ts";
import { CheckpointPublishing, type ResolvedStorage } from "./forwarding/checkpoint-publishing.ts";
import type { RecordingStorageSpec } from "@trailkeeper/core/crd/recording-storage.ts";
import { ConfigMirror } from "./mirror/config-mirror.ts";

export interface RunningOperator {
  /** `isLeader`, `onStartedLeading(signal => …)`, `onStoppedLeading(() => …)`: the forwarding engine runs on these. */
  readonly leader: LeaderElector;
  /** Enabled, resolved LogForwardingDestinations while this replica leads. */
  readonly destinations: DestinationCatalog;
  readonly informers: OperatorInformers;
  readonly metrics: OperatorMetrics;
  /** Port of /healthz, /readyz and /metrics (useful with METRICS_PORT=0). */
  readonly healthPort: number;
  ready(): boolean;
  /**
   * Ends the leadership term (reconciles finish or abort), releases the Lease, stops the forwarders and releases their
   * cursors, leaves the forwarding membership, stops watches and the server.
   */
  stop(): Promise<void>;
}

export interface OperatorDeps {
  logger: Logger;
  gateway?: KubeGateway;
}

function toResolvedDestination(key: string, r: Resolved<LogForwardingDestinationSpec>): ResolvedDestination {
  return {
    key,
    namespace: r.object.metadata.namespace ?? "",
    name: r.object.metadata.name,
    uid: r.object.metadata.uid ?? "",
    tenant: r.tenant,
    kind: destinationKindOf(r.spec)!,
    spec: r.spec,
    secrets: r.secrets,
    revision: r.fingerprint,
  };
}

function toResolvedStorage(key: string, r: Resolved<RecordingStorageSpec>): ResolvedStorage {
  return { key, uid: r.object.metadata.uid ?? "", tenant: r.tenant, spec: r.spec, secrets: r.secrets, revision: r.fingerprint };
}

interface ControllerContext {
  config: OperatorConfig;
  gateway: KubeGateway;
  informers: OperatorInformers;
  metrics: OperatorMetrics;
  logger: Logger;
  recordEvent: EventRecorder;
  egress: EgressPolicy;
}

function createController<S>(kind: CheckedKind<S>, objects: Informer<CustomObject>, ctx: ControllerContext, publish?: (key: string, r: Resolved<S> | undefined) => void): Controller {
  const logger = ctx.logger.child({ controller: kind.kind });
  const reconciler = new CheckedResourceReconciler(kind, {
    objects,
    namespaces: ctx.informers.namespaces,
    gateway: ctx.gateway,
    recordEvent: ctx.recordEvent,
    egress: ctx.egress,
    metrics: ctx.metrics,
    logger,
    ...(publish === undefined ? {} : { publish }),
  });
  const controller = new Controller({ kind: kind.kind, reconciler, keys: () => objects.list().map(objectKey), workers: ctx.config.WORKERS, metrics: ctx.metrics, logger });
  wireKind(kind, { objects, secrets: ctx.informers.secrets, namespaces: ctx.informers.namespaces }, controller);
  return controller;
}

/** Assembles and starts the operator: informers everywhere, reconciles and status writes only on the leader. */
export async function startOperator(config: OperatorConfig, deps: OperatorDeps): Promise<RunningOperator> {
  const { logger } = deps;
  const gateway = deps.gateway ?? createKubeGateway({ kubeconfigPath: config.KUBECONFIG });
  const metrics = createOperatorMetrics();
  const informers = createInformers(gateway, { namespace: config.WATCH_NAMESPACE || undefined, resyncMs: config.RESYNC_SECONDS * 1000 }, metrics, logger);
  const ctx: ControllerContext = {
    config,
    gateway,
    informers,
    metrics,
    logger,
    recordEvent: createEventRecorder(gateway, config.POD_NAME, metrics, logger),
    egress: { allowLoopback: config.EGRESS_ALLOW_LOOPBACK, allowLinkLocal: config.EGRESS_ALLOW_LINK_LOCAL, allowCloudMetadata: config.EGRESS_ALLOW_CLOUD_METADATA },
  };
  const destinations = new DestinationCatalog();
  // Assigned once the database is connected, after the controllers whose reconciles publish into it.
  // eslint-disable-next-line prefer-const
  let publishing: CheckpointPublishing | undefined;
  const controllers = [
    createController(logForwardingDestinationKind, informers.logForwardingDestinations, ctx, (key, r) => destinations.set(key, r && toResolvedDestination(key, r))),
    // The leader publishes each tenant's checkpoints to its RecordingStorage bucket (docs/integrity.md §7).
    createController(recordingStorageKind, informers.recordingStorages, ctx, (key, r) => publishing?.set(key, r && toResolvedStorage(key, r))),
  ];

  const leader = new LeaderElector({
    store: gateway.lease(config.LEASE_NAMESPACE, config.LEASE_NAME),
    identity: config.POD_NAME,
    leaseDurationMs: config.LEASE_DURATION_SECONDS * 1000,
    renewDeadlineMs: config.RENEW_DEADLINE_SECONDS * 1000,
    retryPeriodMs: config.RETRY_PERIOD_SECONDS * 1000,
    logger,
  });
  // Forwarding needs the database; without DATABASE_URL the operator only tests and reports.
  const forwarding: RunningForwarding | undefined = config.DATABASE_URL
    ? await startForwarding({ databaseUrl: config.DATABASE_URL, statusIntervalMs: config.DELIVERY_STATUS_INTERVAL_SECONDS * 1000, checkpointIntervalMs: config.CHECKPOINT_PUBLISH_INTERVAL_SECONDS * 1000, gateway, objects: informers.logForwardingDestinations, registry: metrics.registry, egress: ctx.egress, hostname: config.POD_NAME, logger,
      ownership: { identity: config.POD_NAME, leaseMs: config.LEASE_DURATION_SECONDS * 1000, renewEveryMs: config.RETRY_PERIOD_SECONDS * 1000 } })
    : undefined;
  // Every replica forwards its share of the destinations, leader or not (docs/operator.md, "Forwarding across replicas").
  const sharding = forwarding && createSharding({ config, gateway, informers, supervisor: forwarding.supervisor, registry: metrics.registry, logger });
  publishing = forwarding && new CheckpointPublishing({
    pool: forwarding.pool, egress: ctx.egress, intervalMs: config.CHECKPOINT_PUBLISH_INTERVAL_SECONDS * 1000,
    retention: { mode: config.CHECKPOINT_RETENTION_MODE, days: config.CHECKPOINT_RETENTION_DAYS }, logger: logger.child({ component: "checkpoint-publishing" }), metrics: forwarding.witnessMetrics,
  });
  // The API shows destinations and storages from this copy (docs/api.md); only the leader writes it.
  const mirror = forwarding && new ConfigMirror({
    pool: forwarding.pool,
    kinds: [
      { kind: "LogForwardingDestination", objects: informers.logForwardingDestinations },
      { kind: "RecordingStorage", objects: informers.recordingStorages },
    ],
    namespaces: informers.namespaces,
    namespace: config.WATCH_NAMESPACE || undefined,
    logger: logger.child({ component: "config-mirror" }),
  });
  leader.onStartedLeading((signal) => {
    metrics.leader.set(1);
    void mirror?.serve(signal);
    for (const c of controllers) c.startTerm(signal);
    publishing?.serve(signal);
    forwarding?.checkpoints.serve(destinations, signal);
  });
  leader.onStoppedLeading(async () => {
    metrics.leader.set(0);
    await forwarding?.checkpoints.stop();
    await Promise.all(controllers.map((c) => c.stopTerm()));
    await publishing?.stop();
    destinations.clear();
  });

  let stopping = false;
  const synced = () => informers.all.every((i) => i.synced);
  // Not ready while the Lease cannot be taken or renewed (e.g. its namespace is missing): such a replica never leads.
  const notReadyReason = () => (stopping ? "shutting down" : !synced() ? "caches not synced" : leader.leaseProblem);
  const isReady = () => notReadyReason() === undefined;
  // The server first: if its port is taken, nothing else has started yet.
  const health = await startHealthServer(config.HEALTH_BIND_ADDRESS, config.METRICS_PORT, { live: () => true, ready: isReady, notReadyReason }, metrics.registry);
  for (const informer of informers.all) informer.start();
  // Campaign only with warm caches: a leader with an empty Namespace cache would report wrong tenants.
  void Promise.all(informers.all.map((i) => i.waitForSync())).then(() => {
    if (stopping) return;
    sharding?.start();
    logger.info("caches synced; campaigning for leadership", { lease: `${config.LEASE_NAMESPACE}/${config.LEASE_NAME}`, identity: config.POD_NAME });
    leader.start();
  });
  logger.info("operator started", { watchNamespace: config.WATCH_NAMESPACE || "(all)", healthPort: health.port });

  return {
    leader,
    destinations,
    informers,
    metrics,
    healthPort: health.port,
    ready: isReady,
    async stop() {
      if (stopping) return;
      stopping = true;
      await leader.stop();
      // Forwarders stop and release their cursors before the member Lease goes, so the others take over at once.
      await sharding?.stop();
      await Promise.all(informers.all.map((i) => i.stop()));
      await mirror?.settled();
      await forwarding?.close();
      await health.close();
      logger.info("operator stopped");
    },
  };
}
