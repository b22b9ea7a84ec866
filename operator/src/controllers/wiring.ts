import { secretNames } from "@trailkeeper/core/crd/secret-refs.ts";
import type { CustomObject, NamespaceObject, SecretObject } from "../kube/types.ts";
import type { Controller } from "../runtime/controller.ts";
import { objectKey, type Informer } from "../runtime/informer.ts";
import type { CheckedKind } from "./checked-kind.ts";
import { SecretUsers } from "./dependency-index.ts";

export interface KindSources {
  objects: Informer<CustomObject>;
  secrets: Informer<SecretObject>;
  namespaces: Informer<NamespaceObject>;
}

function sameLabels(a: NamespaceObject, b: NamespaceObject): boolean {
  const x = a.metadata.labels ?? {};
  const y = b.metadata.labels ?? {};
  return Object.keys(x).length === Object.keys(y).length && Object.entries(x).every(([k, v]) => y[k] === v);
}

/**
 * Turns cache events into queued keys for one kind: its own objects, the Secrets they reference (through an index
 * kept from the specs) and label changes of their Namespaces (the tenant). Periodic relists requeue everything,
 * the level-based safety net for anything a watch missed.
 */
export function wireKind<S>(kind: CheckedKind<S>, sources: KindSources, controller: Controller): void {
  const users = new SecretUsers();
  const track = (o: CustomObject) => {
    const parsed = kind.parseSpec(o.spec);
    users.set(objectKey(o), o.metadata.namespace ?? "", parsed.ok ? secretNames(kind.secretRefs(parsed.spec)) : []);
  };
  const enqueue = (o: CustomObject) => controller.enqueue(objectKey(o));

  sources.objects.addHandler({
    added: (o) => (track(o), enqueue(o)),
    updated: (_old, o) => (track(o), enqueue(o)),
    deleted: (o) => (users.remove(objectKey(o)), enqueue(o)),
    resynced: (all) => all.forEach(enqueue),
  });

  const secretChanged = (s: SecretObject) => {
    for (const key of users.usersOf(s.metadata.namespace ?? "", s.metadata.name)) controller.enqueue(key);
  };
  sources.secrets.addHandler({ added: secretChanged, updated: (_old, s) => secretChanged(s), deleted: secretChanged });

  const namespaceChanged = (ns: NamespaceObject) => {
    for (const o of sources.objects.list()) if (o.metadata.namespace === ns.metadata.name) enqueue(o);
  };
  sources.namespaces.addHandler({
    added: namespaceChanged,
    updated: (old, ns) => {
      if (!sameLabels(old, ns)) namespaceChanged(ns);
    },
  });
}
