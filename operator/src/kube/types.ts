/**
 * Plain shapes of the Kubernetes objects the operator reads and writes. The gateway converts the client library's
 * classes into these, so nothing outside `kube/` depends on @kubernetes/client-node and tests can use literals.
 */

export interface ObjectMeta {
  name: string;
  namespace?: string | undefined;
  uid?: string | undefined;
  resourceVersion?: string | undefined;
  generation?: number | undefined;
  labels?: Record<string, string> | undefined;
  annotations?: Record<string, string> | undefined;
  deletionTimestamp?: string | undefined;
  creationTimestamp?: string | undefined;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
}

/** A custom resource as the API server returns it: spec and status are validated by the controllers. */
export interface CustomObject extends KubeObject {
  spec?: unknown;
  status?: Record<string, unknown>;
}

export interface SecretObject extends KubeObject {
  /** Base64-encoded values, as in the API. */
  data?: Record<string, string> | undefined;
}

export type NamespaceObject = KubeObject;

/** The kinds the operator lists and watches, by their resource (plural) name. */
export interface WatchedObjects {
  logforwardingdestinations: CustomObject;
  recordingstorages: CustomObject;
  secrets: SecretObject;
  namespaces: NamespaceObject;
}
export type WatchedResource = keyof WatchedObjects;
export type CustomResource = "logforwardingdestinations" | "recordingstorages";

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";

/** Why a watch stream ended; `expired` (410 Gone) means the resourceVersion is too old and a relist is needed. */
export type WatchEnd =
  | { kind: "closed" }
  | { kind: "expired"; message: string }
  | { kind: "failed"; error: Error; timedOut: boolean };

export interface WatchHandle {
  /** Closes the stream; `ended` then resolves. */
  stop(): void;
  readonly ended: Promise<WatchEnd>;
}

export interface ListWatchOptions {
  /** Server-side watch timeout; the server closes the stream normally after it. */
  timeoutSeconds: number;
  /** A stream silent for this long is treated as dead (bookmarks arrive about every minute). */
  inactivityTimeoutMs: number;
}

/** List and watch of one resource, optionally limited to a namespace and a field selector. */
export interface ListWatchClient<T extends KubeObject> {
  readonly resource: WatchedResource;
  list(): Promise<ListResult<T>>;
  watch(resourceVersion: string, onEvent: (type: WatchEventType, object: T) => void, options: ListWatchOptions): Promise<WatchHandle>;
}

/** coordination.k8s.io/v1 Lease spec with times as epoch milliseconds. */
export interface LeaseRecord {
  holderIdentity?: string | undefined;
  leaseDurationSeconds?: number | undefined;
  acquireTime?: number | undefined;
  renewTime?: number | undefined;
  leaseTransitions?: number | undefined;
  resourceVersion?: string | undefined;
}

/** One Lease, read and written with optimistic concurrency on its resourceVersion. */
export interface LeaseStore {
  readonly namespace: string;
  readonly name: string;
  get(): Promise<LeaseRecord | undefined>;
  /** Fails with status 409 when the Lease exists. */
  create(record: LeaseRecord): Promise<LeaseRecord>;
  /** Fails with status 409 when `record.resourceVersion` is not the current one. */
  update(record: LeaseRecord): Promise<LeaseRecord>;
}

/** A Lease of a labelled set (forwarding membership): its name beside its spec. */
export interface NamedLease extends LeaseRecord {
  name: string;
}

/** The Leases of one namespace that carry one label: listed together, each read and written like a LeaseStore. */
export interface LeaseSet {
  readonly namespace: string;
  /** `key=value`, the label every Lease of the set carries. */
  readonly selector: string;
  list(): Promise<NamedLease[]>;
  /** One Lease of the set; create adds the set's label. */
  lease(name: string): LeaseStore;
  /** Deletes the Lease only while its resourceVersion is still `resourceVersion` (else 409); a missing Lease is no error. */
  delete(name: string, resourceVersion?: string): Promise<void>;
}

export interface ObjectReference {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string | undefined;
  resourceVersion?: string | undefined;
}

/** An events.k8s.io/v1 Event about one object. */
export interface EventRecord {
  regarding: ObjectReference;
  type: "Normal" | "Warning";
  reason: string;
  action: string;
  note: string;
}
