import { CoreV1Api, CustomObjectsApi, Watch, type KubeConfig } from "@kubernetes/client-node";
import { crdGroup, crdVersion } from "@trailkeeper/core/crd/common.ts";
import { kubeCall, plainObject } from "./convert.ts";
import { KubeApiError } from "./errors.ts";
import type { KubeObject, ListResult, ListWatchClient, ListWatchOptions, WatchedObjects, WatchedResource, WatchEnd, WatchEventType, WatchHandle } from "./types.ts";

/** Lists are paged so a cluster with many Secrets never returns one huge response. */
const pageSize = 500;

export interface Scope {
  /** Limit to one namespace; undefined lists across all namespaces. */
  namespace?: string | undefined;
  fieldSelector?: string | undefined;
}

interface Page {
  items?: unknown[];
  metadata?: { resourceVersion?: string; _continue?: string; continue?: string };
}

function watchPath(resource: WatchedResource, namespace: string | undefined): string {
  const ns = namespace === undefined || resource === "namespaces" ? "" : `/namespaces/${encodeURIComponent(namespace)}`;
  const base = resource === "secrets" || resource === "namespaces" ? "/api/v1" : `/apis/${crdGroup}/${crdVersion}`;
  return `${base}${ns}/${resource}`;
}

function pageLister(kc: KubeConfig, resource: WatchedResource, scope: Scope): (cont: string | undefined) => Promise<Page> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const { namespace, fieldSelector } = scope;
  return (cont) => {
    const paging = { limit: pageSize, _continue: cont, fieldSelector };
    switch (resource) {
      case "namespaces":
        return core.listNamespace(paging) as Promise<Page>;
      case "secrets":
        return (namespace === undefined ? core.listSecretForAllNamespaces(paging) : core.listNamespacedSecret({ ...paging, namespace })) as Promise<Page>;
      default: {
        const crd = { group: crdGroup, version: crdVersion, plural: resource };
        return namespace === undefined ? custom.listClusterCustomObject({ ...crd, ...paging }) : custom.listNamespacedCustomObject({ ...crd, ...paging, namespace });
      }
    }
  };
}

const eventTypes = new Set<string>(["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]);

/**
 * List and watch through the client library's `Watch`, which ends a stream on error without retrying; the
 * informer in runtime/ supervises it. A 410 Gone arrives either as an ERROR event or as the HTTP status, and both
 * become `expired` here so the informer knows to relist rather than resume.
 */
export function createListWatch<R extends WatchedResource>(kc: KubeConfig, resource: R, scope: Scope): ListWatchClient<WatchedObjects[R]> {
  type T = WatchedObjects[R];
  const listPage = pageLister(kc, resource, scope);
  return {
    resource,
    async list(): Promise<ListResult<T>> {
      const items: T[] = [];
      let cont: string | undefined;
      let resourceVersion = "";
      do {
        const page = await kubeCall(() => listPage(cont));
        for (const raw of page.items ?? []) items.push(plainObject<T & KubeObject>(raw));
        resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
        cont = page.metadata?._continue ?? page.metadata?.continue;
      } while (cont !== undefined && cont !== "");
      return { items, resourceVersion };
    },
    watch: (resourceVersion, onEvent, options) => startWatch(kc, watchPath(resource, scope.namespace), scope, resourceVersion, onEvent, options),
  };
}

async function startWatch<T extends KubeObject>(
  kc: KubeConfig,
  path: string,
  scope: Scope,
  resourceVersion: string,
  onEvent: (type: WatchEventType, object: T) => void,
  options: ListWatchOptions,
): Promise<WatchHandle> {
  const watcher = new Watch(kc);
  // The library's inactivity timeout is private and 30 s, shorter than the minute between bookmarks on a quiet
  // resource, which would restart every quiet watch twice a minute; it stays the watchdog, set to our value.
  (watcher as unknown as { requestTimeoutMs: number }).requestTimeoutMs = options.inactivityTimeoutMs;
  let settle!: (end: WatchEnd) => void;
  const ended = new Promise<WatchEnd>((resolve) => (settle = resolve));
  let verdict: WatchEnd | undefined;
  let controller: AbortController | undefined;
  let stopped = false;
  const end = (v: WatchEnd) => {
    verdict ??= v;
    controller?.abort();
  };

  const onData = (type: string, raw: unknown) => {
    if (type === "ERROR") {
      const status = (raw ?? {}) as { code?: number; message?: string; reason?: string };
      const message = status.message ?? "watch error";
      end(status.code === 410 ? { kind: "expired", message } : { kind: "failed", error: new KubeApiError(status.code ?? 500, message, status.reason), timedOut: false });
      return;
    }
    if (!eventTypes.has(type)) return;
    // The library swallows exceptions from this callback; a failing handler must end the stream visibly instead.
    try {
      onEvent(type as WatchEventType, plainObject<T>(raw));
    } catch (err) {
      end({ kind: "failed", error: err instanceof Error ? err : new Error(String(err)), timedOut: false });
    }
  };
  const onDone = (err: unknown) => {
    if (verdict !== undefined) return settle(verdict);
    if (stopped || err === null || err === undefined) return settle({ kind: "closed" });
    const e = err as Error & { statusCode?: number };
    if (e.statusCode === 410) return settle({ kind: "expired", message: e.message });
    const error = e.statusCode === undefined ? e : new KubeApiError(e.statusCode, `watch ${path}: ${e.message}`);
    settle({ kind: "failed", error, timedOut: e.name === "TimeoutError" });
  };

  const query = { resourceVersion, allowWatchBookmarks: true, timeoutSeconds: options.timeoutSeconds, fieldSelector: scope.fieldSelector };
  try {
    controller = await watcher.watch(path, query, onData, onDone);
  } catch (err) {
    onDone(err);
  }
  if (verdict !== undefined) controller?.abort();
  return {
    stop() {
      stopped = true;
      controller?.abort();
    },
    ended,
  };
}
