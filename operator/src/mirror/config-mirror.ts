import { deleteMirror, pruneMirror, upsertMirror, type MirroredKind, type MirrorRow } from "@trailkeeper/core/db/config-mirror.ts";
import type { Pool } from "@trailkeeper/core/db/pool.ts";
import type { Logger } from "@trailkeeper/core/log.ts";
import type { CustomObject, NamespaceObject } from "../kube/types.ts";
import { objectKey, type Informer } from "../runtime/informer.ts";
import { mirrorRowOf } from "./projection.ts";

export interface ConfigMirrorDeps {
  pool: Pool;
  kinds: { kind: MirroredKind; objects: Informer<CustomObject> }[];
  namespaces: Informer<NamespaceObject>;
  /** The one namespace served (WATCH_NAMESPACE), or undefined for all: the scope of pruning. */
  namespace: string | undefined;
  logger: Logger;
}

/**
 * Keeps the config_mirror table equal to the watch cache while this replica leads: every add, update (spec or
 * status) and delete is written, a Namespace's label change rewrites its resources (the tenant), and a new term
 * starts with a full sync that also prunes rows of resources deleted during the hand-over.
 */
export class ConfigMirror {
  readonly #d: ConfigMirrorDeps;
  /** The row last written per kind/namespace/name, to skip writes that would change nothing. */
  readonly #written = new Map<string, string>();
  #chain: Promise<void> = Promise.resolve();
  #leading = false;

  constructor(deps: ConfigMirrorDeps) {
    this.#d = deps;
    for (const { kind, objects } of deps.kinds) {
      const write = (o: CustomObject) => this.#enqueue(() => this.#write(kind, o));
      objects.addHandler({ added: write, updated: (_old, o) => write(o), deleted: (o) => this.#enqueue(() => this.#remove(kind, o)) });
    }
    deps.namespaces.addHandler({ added: (ns) => this.#namespaceChanged(ns), updated: (_old, ns) => this.#namespaceChanged(ns) });
  }

  /** Mirrors while `signal` is not aborted (the leadership term). */
  serve(signal: AbortSignal): Promise<void> {
    this.#leading = true;
    signal.addEventListener("abort", () => (this.#leading = false), { once: true });
    return this.#enqueue(() => this.#fullSync());
  }

  /** Resolves once every write queued so far is done (for shutdown and tests). */
  settled(): Promise<void> {
    return this.#enqueue(async () => {});
  }

  /** Writes happen one at a time, in the order of the cache events, so a delete never overtakes its update. */
  #enqueue(fn: () => Promise<void>): Promise<void> {
    this.#chain = this.#chain.then(() => (this.#leading ? fn() : undefined)).catch((err: unknown) => this.#d.logger.warn("config mirror write failed", { err }));
    return this.#chain;
  }

  #namespaceChanged(ns: NamespaceObject): void {
    for (const { kind, objects } of this.#d.kinds) {
      for (const o of objects.list()) if (o.metadata.namespace === ns.metadata.name) void this.#enqueue(() => this.#write(kind, o));
    }
  }

  async #fullSync(): Promise<void> {
    this.#written.clear();
    for (const { kind, objects } of this.#d.kinds) {
      const all = objects.list();
      for (const o of all) await this.#write(kind, o);
      const removed = await pruneMirror(this.#d.pool, kind, this.#d.namespace, all.map(objectKey));
      if (removed > 0) this.#d.logger.info("config mirror pruned resources deleted while not leading", { kind, removed });
    }
  }

  async #write(kind: MirroredKind, object: CustomObject): Promise<void> {
    const key = `${kind}/${objectKey(object)}`;
    const row: MirrorRow | undefined = mirrorRowOf(kind, object, this.#d.namespaces.get(object.metadata.namespace ?? ""));
    // No valid tenant: the row would be visible to nobody, and a stale one to the wrong tenant.
    if (row === undefined) return this.#remove(kind, object);
    const text = JSON.stringify(row);
    if (this.#written.get(key) === text) return;
    await upsertMirror(this.#d.pool, row);
    this.#written.set(key, text);
  }

  async #remove(kind: MirroredKind, object: CustomObject): Promise<void> {
    this.#written.delete(`${kind}/${objectKey(object)}`);
    await deleteMirror(this.#d.pool, kind, object.metadata.namespace ?? "", object.metadata.name);
  }
}
