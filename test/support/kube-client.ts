import { randomBytes } from "node:crypto";
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi, EventsV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";

/**
 * What the operator tests do to the cluster, as a user would with kubectl: namespaces, Secrets, custom resources.
 * It talks to the API directly (not through the operator's gateway) so a gateway bug cannot hide in the test.
 */
export interface TestKube {
  kubeconfigPath: string;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  coordination: CoordinationV1Api;
  events: EventsV1Api;
}

export type Plural = "logforwardingdestinations" | "recordingstorages";

/* eslint-disable @typescript-eslint/no-explicit-any -- custom resources are untyped JSON here */
export interface CustomResourceJson {
  metadata: { name: string; namespace: string; generation: number; resourceVersion: string; uid: string; labels?: Record<string, string> };
  spec: any;
  status?: any;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

const crd = { group: "trailkeeper.dev", version: "v1alpha1" };
const kinds: Record<Plural, string> = { logforwardingdestinations: "LogForwardingDestination", recordingstorages: "RecordingStorage" };
const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export function testKube(kubeconfigPath: string): TestKube {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return {
    kubeconfigPath,
    core: kc.makeApiClient(CoreV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    coordination: kc.makeApiClient(CoordinationV1Api),
    events: kc.makeApiClient(EventsV1Api),
  };
}

/** A new namespace with a random suffix, so test files and reruns never share objects. */
export async function createTestNamespace(kube: TestKube, prefix: string, labels: Record<string, string> = {}): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString("hex")}`;
  await kube.core.createNamespace({ body: { metadata: { name, labels } } });
  return name;
}

export async function setNamespaceLabels(kube: TestKube, namespace: string, labels: Record<string, string | null>): Promise<void> {
  await kube.core.patchNamespace({ name: namespace, body: { metadata: { labels } } }, mergePatch);
}

/**
 * Deletes everything the tests create in `namespace`, then the namespace itself. No namespace controller runs
 * against the test apiserver, so the contents are deleted one by one and the namespace's finalizer is cleared.
 */
export async function deleteTestNamespace(kube: TestKube, namespace: string): Promise<void> {
  const quietly = (p: Promise<unknown>) => p.catch(() => undefined);
  for (const plural of Object.keys(kinds)) {
    await quietly(kube.custom.deleteCollectionNamespacedCustomObject({ ...crd, plural, namespace }));
  }
  await quietly(kube.core.deleteCollectionNamespacedSecret({ namespace }));
  await quietly(kube.events.deleteCollectionNamespacedEvent({ namespace }));
  await quietly(kube.coordination.deleteCollectionNamespacedLease({ namespace }));
  await quietly(kube.core.deleteNamespace({ name: namespace }));
  await quietly(kube.core.replaceNamespaceFinalize({ name: namespace, body: { metadata: { name: namespace }, spec: { finalizers: [] } } }));
}

/** Creates or replaces a Secret with the given text values. */
export async function putSecret(kube: TestKube, namespace: string, name: string, values: Record<string, string>): Promise<void> {
  const body = { metadata: { name, namespace }, stringData: values };
  try {
    await kube.core.replaceNamespacedSecret({ namespace, name, body });
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
    await kube.core.createNamespacedSecret({ namespace, body });
  }
}

export async function deleteSecret(kube: TestKube, namespace: string, name: string): Promise<void> {
  await kube.core.deleteNamespacedSecret({ namespace, name });
}

export async function createResource(kube: TestKube, plural: Plural, namespace: string, name: string, spec: unknown): Promise<CustomResourceJson> {
  const body = { apiVersion: `${crd.group}/${crd.version}`, kind: kinds[plural], metadata: { name, namespace }, spec };
  return (await kube.custom.createNamespacedCustomObject({ ...crd, plural, namespace, body })) as CustomResourceJson;
}

export async function getResource(kube: TestKube, plural: Plural, namespace: string, name: string): Promise<CustomResourceJson> {
  return (await kube.custom.getNamespacedCustomObject({ ...crd, plural, namespace, name })) as CustomResourceJson;
}

/** Merge-patches the spec (a user's `kubectl patch --type=merge`). */
export async function patchSpec(kube: TestKube, plural: Plural, namespace: string, name: string, spec: unknown): Promise<CustomResourceJson> {
  return (await kube.custom.patchNamespacedCustomObject({ ...crd, plural, namespace, name, body: { spec } }, mergePatch)) as CustomResourceJson;
}

export interface ConditionJson {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export function condition(resource: CustomResourceJson, type: string): ConditionJson | undefined {
  return (resource.status?.conditions as ConditionJson[] | undefined)?.find((c) => c.type === type);
}

/** The events.k8s.io Events about one object, oldest first. */
export async function eventsFor(kube: TestKube, namespace: string, name: string): Promise<{ type: string; reason: string; note: string }[]> {
  const list = await kube.events.listNamespacedEvent({ namespace });
  return list.items
    .filter((e) => e.regarding?.name === name)
    .sort((a, b) => String(a.eventTime).localeCompare(String(b.eventTime)))
    .map((e) => ({ type: e.type ?? "", reason: e.reason ?? "", note: e.note ?? "" }));
}
