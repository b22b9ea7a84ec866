import type { Logger } from "@trailkeeper/core/log.ts";
import type { KubeGateway } from "./kube/gateway.ts";
import type { CustomObject, KubeObject, NamespaceObject, SecretObject, WatchedObjects, WatchedResource } from "./kube/types.ts";
import type { OperatorMetrics } from "./metrics.ts";
import { Informer } from "./runtime/informer.ts";

export interface OperatorInformers {
  logForwardingDestinations: Informer<CustomObject>;
  recordingStorages: Informer<CustomObject>;
  /** Metadata only: values are read when a check needs them, so the cache never holds Secret data. */
  secrets: Informer<SecretObject>;
  namespaces: Informer<NamespaceObject>;
  all: Informer<KubeObject>[];
}

export interface InformerSettings {
  /** One namespace, or undefined for the whole cluster. */
  namespace: string | undefined;
  resyncMs: number;
}

export function createInformers(gateway: KubeGateway, settings: InformerSettings, metrics: OperatorMetrics, logger: Logger): OperatorInformers {
  const scope = { namespace: settings.namespace };
  const make = <R extends WatchedResource>(resource: R, client = gateway.listWatch(resource, scope), transform?: (o: WatchedObjects[R]) => WatchedObjects[R]) =>
    new Informer<WatchedObjects[R]>({
      client,
      logger,
      resyncMs: settings.resyncMs,
      ...(transform === undefined ? {} : { transform }),
      onWatchRestart: (reason) => metrics.watchRestarts.inc({ resource, reason }),
      onRelist: () => metrics.relists.inc({ resource }),
    });
  const logForwardingDestinations = make("logforwardingdestinations");
  const recordingStorages = make("recordingstorages");
  const secrets = make("secrets", undefined, (s) => ({ metadata: s.metadata }));
  // Namespaces are cluster-scoped; a namespaced operator still needs its own Namespace's labels for the tenant.
  const namespaceScope = settings.namespace === undefined ? {} : { fieldSelector: `metadata.name=${settings.namespace}` };
  const namespaces = make("namespaces", gateway.listWatch("namespaces", namespaceScope));
  return {
    logForwardingDestinations,
    recordingStorages,
    secrets,
    namespaces,
    all: [logForwardingDestinations, recordingStorages, secrets, namespaces] as Informer<KubeObject>[],
  };
}
