import { randomBytes } from "node:crypto";
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi, EventsV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1Lease } from "@kubernetes/client-node";
import { crdGroup, crdVersion } from "@trailkeeper/core/crd/common.ts";
import { epochMs, kubeCall, microTime, plainObject } from "./convert.ts";
import { isNotFound } from "./errors.ts";
import { createListWatch, type Scope } from "./list-watch.ts";
import type { CustomResource, EventRecord, LeaseRecord, LeaseSet, LeaseStore, ListWatchClient, SecretObject, WatchedObjects, WatchedResource } from "./types.ts";

/** Everything the operator does with the Kubernetes API; the only module that imports the client library. */
export interface KubeGateway {
  listWatch<R extends WatchedResource>(resource: R, scope?: Scope): ListWatchClient<WatchedObjects[R]>;
  /** Undefined when the Secret does not exist. */
  readSecret(namespace: string, name: string): Promise<SecretObject | undefined>;
  /**
   * JSON merge patch of `/status` (custom resources reject strategic merge). With `resourceVersion` the write fails
   * with 409 when the object changed since it was read, so a status computed from a stale read is never stored.
   * Returns the new resourceVersion.
   */
  patchStatus(resource: CustomResource, namespace: string, name: string, status: Record<string, unknown>, resourceVersion?: string): Promise<string>;
  createEvent(event: EventRecord, reporting: { controller: string; instance: string }): Promise<void>;
  lease(namespace: string, name: string): LeaseStore;
  /** The Leases in `namespace` labelled `label=value` (forwarding membership, docs/operator.md). */
  leaseSet(namespace: string, label: string, value: string): LeaseSet;
}

export interface GatewayOptions {
  /** Path of a kubeconfig file; undefined uses the in-cluster service account. */
  kubeconfigPath?: string | undefined;
}

export function loadKubeConfig(options: GatewayOptions): KubeConfig {
  const kc = new KubeConfig();
  if (options.kubeconfigPath === undefined) kc.loadFromCluster();
  else kc.loadFromFile(options.kubeconfigPath);
  return kc;
}

const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export function createKubeGateway(options: GatewayOptions): KubeGateway {
  const kc = loadKubeConfig(options);
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const events = kc.makeApiClient(EventsV1Api);
  const coordination = kc.makeApiClient(CoordinationV1Api);
  return {
    listWatch: (resource, scope = {}) => createListWatch(kc, resource, scope),

    async readSecret(namespace, name) {
      try {
        return plainObject<SecretObject>(await kubeCall(() => core.readNamespacedSecret({ namespace, name })));
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },

    async patchStatus(resource, namespace, name, status, resourceVersion) {
      const body = { ...(resourceVersion === undefined ? {} : { metadata: { resourceVersion } }), status };
      const updated = (await kubeCall(() =>
        custom.patchNamespacedCustomObjectStatus({ group: crdGroup, version: crdVersion, plural: resource, namespace, name, body }, mergePatch),
      )) as { metadata?: { resourceVersion?: string } };
      return updated.metadata?.resourceVersion ?? "";
    },

    async createEvent(event, reporting) {
      const now = Date.now();
      const body = {
        metadata: { name: `${event.regarding.name}.${now.toString(16)}${randomBytes(3).toString("hex")}`, namespace: event.regarding.namespace },
        // Typed as Date by the library, but its serializer would send milliseconds, which MicroTime rejects.
        eventTime: microTime(now) as unknown as Date,
        reportingController: reporting.controller,
        reportingInstance: reporting.instance,
        action: event.action,
        reason: event.reason,
        note: event.note.slice(0, 1024),
        type: event.type,
        regarding: event.regarding,
      };
      await kubeCall(() => events.createNamespacedEvent({ namespace: event.regarding.namespace, body }));
    },

    lease: (namespace, name) => leaseStore(coordination, namespace, name),
    leaseSet: (namespace, label, value) => leaseSet(coordination, namespace, { [label]: value }),
  };
}

function toRecord(lease: V1Lease): LeaseRecord {
  const spec = lease.spec ?? {};
  return {
    holderIdentity: spec.holderIdentity,
    leaseDurationSeconds: spec.leaseDurationSeconds,
    acquireTime: epochMs(spec.acquireTime),
    renewTime: epochMs(spec.renewTime),
    leaseTransitions: spec.leaseTransitions,
    resourceVersion: lease.metadata?.resourceVersion,
  };
}

function toLease(namespace: string, name: string, r: LeaseRecord, labels?: Record<string, string>): V1Lease {
  const time = (ms: number | undefined) => (ms === undefined ? undefined : (microTime(ms) as unknown as Date));
  return {
    metadata: { name, namespace, ...(labels === undefined ? {} : { labels }), ...(r.resourceVersion === undefined ? {} : { resourceVersion: r.resourceVersion }) },
    spec: {
      holderIdentity: r.holderIdentity,
      leaseDurationSeconds: r.leaseDurationSeconds,
      acquireTime: time(r.acquireTime),
      renewTime: time(r.renewTime),
      leaseTransitions: r.leaseTransitions,
    },
  };
}

function leaseStore(api: CoordinationV1Api, namespace: string, name: string, labels?: Record<string, string>): LeaseStore {
  return {
    namespace,
    name,
    async get() {
      try {
        return toRecord(await kubeCall(() => api.readNamespacedLease({ namespace, name })));
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    create: async (record) => toRecord(await kubeCall(() => api.createNamespacedLease({ namespace, body: toLease(namespace, name, record, labels) }))),
    update: async (record) => toRecord(await kubeCall(() => api.replaceNamespacedLease({ namespace, name, body: toLease(namespace, name, record, labels) }))),
  };
}

function leaseSet(api: CoordinationV1Api, namespace: string, labels: Record<string, string>): LeaseSet {
  const selector = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(",");
  return {
    namespace,
    selector,
    async list() {
      const list = await kubeCall(() => api.listNamespacedLease({ namespace, labelSelector: selector }));
      return list.items.map((l) => ({ name: l.metadata?.name ?? "", ...toRecord(l) }));
    },
    lease: (name) => leaseStore(api, namespace, name, labels),
    async delete(name, resourceVersion) {
      try {
        await kubeCall(() => api.deleteNamespacedLease({ namespace, name, ...(resourceVersion === undefined ? {} : { body: { preconditions: { resourceVersion } } }) }));
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    },
  };
}
