import { CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { crdGroup, crdVersion } from "@trailkeeper/core/crd/common.ts";
import { KubeError, ownedSecretPatch, OwnershipTestFailed, type ConfigCluster, type CustomResourceObject, type NamespaceObject } from "./types.ts";

// The client library costs about 90 MiB of memory once loaded: this module is imported only when Save through
// Kubernetes is on (kube/config.ts), so nothing else may import it; types and errors live in kube/types.ts.

/** The client library's ApiException (code, JSON Status body) as a KubeError; other errors pass through. */
function toKubeError(err: unknown): unknown {
  const e = err as { code?: unknown; body?: unknown };
  if (err === null || typeof err !== "object" || typeof e.code !== "number") return err;
  let status: { message?: string; reason?: string; details?: { causes?: { message?: string }[] } };
  try {
    status = (typeof e.body === "string" ? JSON.parse(e.body) : e.body) ?? {};
  } catch {
    // Not a Status object (a proxy's error page): its first line is enough.
    status = { message: `HTTP ${e.code}: ${String(e.body).trim().split("\n")[0]?.slice(0, 200)}` };
  }
  // A generic message ("the server rejected our request…") carries the real one in its causes.
  const causes = (status.details?.causes ?? []).map((c) => c.message).filter((m) => typeof m === "string");
  return new KubeError(e.code, [status.message ?? `HTTP ${e.code}`, ...causes].join(": "), status.reason);
}

async function call<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw toKubeError(err);
  }
}

async function orMissing<T>(run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call(run);
  } catch (err) {
    if (err instanceof KubeError && err.status === 404) return undefined;
    throw err;
  }
}

/** JSON round trip: the library's typed classes (Dates included) become the plain API shapes. */
const plain = <T>(value: unknown): T => (value === undefined ? undefined : JSON.parse(JSON.stringify(value))) as T;

const jsonPatch = setHeaderOptions("Content-Type", PatchStrategy.JsonPatch);

export function createConfigCluster(kubeconfigPath: string | undefined): ConfigCluster {
  const kc = new KubeConfig();
  if (kubeconfigPath === undefined) kc.loadFromCluster();
  else kc.loadFromFile(kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const crd = { group: crdGroup, version: crdVersion };
  return {
    readNamespace: async (name) => plain(await orMissing(() => core.readNamespace({ name }))),
    listNamespaces: async () => plain<NamespaceObject[]>((await call(() => core.listNamespace({}))).items),
    readResource: async (plural, namespace, name) => orMissing(async () => plain<CustomResourceObject>(await custom.getNamespacedCustomObject({ ...crd, plural, namespace, name }))),
    createResource: async (plural, namespace, body) => plain(await call(() => custom.createNamespacedCustomObject({ ...crd, plural, namespace, body }))),
    replaceResource: async (plural, namespace, body) => plain(await call(() => custom.replaceNamespacedCustomObject({ ...crd, plural, namespace, name: body.metadata.name, body }))),
    createSecret: async (namespace, body, dryRun) => void (await call(() => core.createNamespacedSecret({ namespace, body, ...(dryRun ? { dryRun: "All" } : {}) }))),
    patchOwnedSecret: async (namespace, name, data, owner, dryRun) => {
      try {
        await call(() => core.patchNamespacedSecret({ namespace, name, body: ownedSecretPatch(data, owner), ...(dryRun ? { dryRun: "All" } : {}) }, jsonPatch));
      } catch (err) {
        // A patch that cannot be applied is answered 422 Invalid with a generic message (the cause is not given): with
        // only a label test and key additions, that is a Secret without the label (or without any data, which the
        // API server never writes). A Secret the patch reached but found invalid says "is invalid" instead.
        if (err instanceof KubeError && err.status === 422 && err.reason === "Invalid" && !/ is invalid/.test(err.message)) throw new OwnershipTestFailed(err.message);
        throw err;
      }
    },
  };
}
