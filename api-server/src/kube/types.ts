/** What the API server reads and writes through the Kubernetes API, without the client library (kube/cluster.ts). */

/** The object metadata the API server reads and writes. */
export interface Meta {
  name: string;
  namespace?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface CustomResourceObject {
  apiVersion: string;
  kind: string;
  metadata: Meta;
  spec?: Record<string, unknown>;
}

export interface SecretObject {
  metadata: Meta;
  /** Base64 values, as in the API. */
  data?: Record<string, string>;
  type?: string;
}

export interface NamespaceObject {
  metadata: Meta;
}

export type ConfigPlural = "logforwardingdestinations" | "recordingstorages";

/** An error answer of the Kubernetes API: its HTTP status, Status reason and message. */
export class KubeError extends Error {
  readonly status: number;
  readonly reason: string | undefined;
  constructor(status: number, message: string, reason?: string) {
    super(message);
    this.name = "KubeError";
    this.status = status;
    this.reason = reason;
  }
}

/**
 * What the API server does with the Kubernetes API to save configuration; the only module that imports the client
 * library on this side. Reads answer undefined for a missing object; writes throw KubeError (409 on a stale
 * resourceVersion or an existing name).
 */
export interface ConfigCluster {
  readNamespace(name: string): Promise<NamespaceObject | undefined>;
  listNamespaces(): Promise<NamespaceObject[]>;
  readResource(plural: ConfigPlural, namespace: string, name: string): Promise<CustomResourceObject | undefined>;
  createResource(plural: ConfigPlural, namespace: string, body: CustomResourceObject): Promise<CustomResourceObject>;
  replaceResource(plural: ConfigPlural, namespace: string, body: CustomResourceObject): Promise<CustomResourceObject>;
  /** Creates a Secret; with `dryRun` the Kubernetes API validates and admits it without storing it. */
  createSecret(namespace: string, body: SecretObject, dryRun: boolean): Promise<void>;
  /**
   * Adds or replaces keys of an existing Secret with a JSON patch whose first operation tests that `label` has
   * `value`: a Secret without the label is neither changed nor read (throws OwnershipTestFailed).
   */
  patchOwnedSecret(namespace: string, name: string, data: Record<string, string>, owner: { label: string; value: string }, dryRun: boolean): Promise<void>;
}

/** The JSON patch's ownership test failed: the Secret exists without the API server's label. */
export class OwnershipTestFailed extends Error {}

/** RFC 6901: `~` and `/` inside a JSON Pointer segment. */
const pointer = (segment: string) => segment.replaceAll("~", "~0").replaceAll("/", "~1");

export function ownedSecretPatch(data: Record<string, string>, owner: { label: string; value: string }): unknown[] {
  return [
    { op: "test", path: `/metadata/labels/${pointer(owner.label)}`, value: owner.value },
    ...Object.entries(data).map(([key, value]) => ({ op: "add", path: `/data/${pointer(key)}`, value })),
  ];
}

