import type { Logger } from "@trailkeeper/core/log.ts";
import type { KubeObject, ListWatchClient, WatchEnd, WatchEventType, WatchHandle } from "../kube/types.ts";
import { Backoff, sleep, withJitter, type BackoffPolicy } from "./backoff.ts";

export interface InformerHandler<T> {
  added?(object: T): void;
  updated?(previous: T, object: T): void;
  deleted?(object: T): void;
  /** After every list (start, 410, periodic resync) with the whole cache, for a level-based sweep. */
  resynced?(objects: readonly T[]): void;
}

/** Why a watch was restarted, as counted in trailkeeper_operator_watch_restarts_total. */
export type RestartReason = "closed" | "expired" | "error" | "timeout" | "resync" | "forced";

export interface InformerOptions<T extends KubeObject> {
  client: ListWatchClient<T>;
  logger: Logger;
  /** Period of the full relist that repairs anything a watch may have missed. */
  resyncMs: number;
  watchTimeoutSeconds?: number;
  inactivityTimeoutMs?: number;
  backoff?: BackoffPolicy;
  /** Applied to every object before it is cached, e.g. to drop Secret values the cache must not hold. */
  transform?: (object: T) => T;
  onWatchRestart?: (reason: RestartReason) => void;
  onRelist?: () => void;
}

export const defaultWatchBackoff: BackoffPolicy = { baseMs: 500, maxMs: 30_000, jitter: 0.3 };

export function objectKey(object: KubeObject): string {
  const ns = object.metadata.namespace;
  return ns === undefined || ns === "" ? object.metadata.name : `${ns}/${object.metadata.name}`;
}

/**
 * A supervised list+watch cache. The client library's informer stops for good on most errors and does not re-emit
 * objects after a restart (kubernetes.md §4), so this one owns the loop: list, then watch from the list's
 * resourceVersion; resume the watch after it closes, back off after errors, relist after 410 Gone and
 * periodically. Each relist is diffed against the cache so handlers see the adds, updates and deletes missed.
 */
export class Informer<T extends KubeObject> {
  readonly resource: string;
  readonly #o: InformerOptions<T>;
  readonly #handlers: InformerHandler<T>[] = [];
  readonly #backoff: Backoff;
  readonly #stop = new AbortController();
  #cache = new Map<string, T>();
  #resourceVersion = "";
  #synced = false;
  #syncWaiters: (() => void)[] = [];
  #watch: WatchHandle | undefined;
  #requested: "resync" | "forced" | undefined;
  #loop: Promise<void> | undefined;
  #resyncTimer: NodeJS.Timeout | undefined;

  constructor(options: InformerOptions<T>) {
    this.#o = options;
    this.resource = options.client.resource;
    this.#backoff = new Backoff(options.backoff ?? defaultWatchBackoff);
  }

  addHandler(handler: InformerHandler<T>): void {
    this.#handlers.push(handler);
  }

  start(): void {
    this.#loop ??= this.#run();
    this.#scheduleResync();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    clearTimeout(this.#resyncTimer);
    this.#watch?.stop();
    await this.#loop;
  }

  get synced(): boolean {
    return this.#synced;
  }

  /** Resolves after the first successful list. */
  waitForSync(): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve) => this.#syncWaiters.push(resolve));
  }

  get(key: string): T | undefined {
    return this.#cache.get(key);
  }

  list(): T[] {
    return [...this.#cache.values()];
  }

  /** Closes the current watch stream as a failure would; the supervisor reconnects from the last resourceVersion. */
  restartWatch(): void {
    if (this.#watch === undefined) return;
    this.#requested ??= "forced";
    this.#watch.stop();
  }

  /** Relists now instead of at the next resync period. */
  resync(): void {
    this.#requested = "resync";
    this.#watch?.stop();
  }

  #scheduleResync(): void {
    if (this.#stop.signal.aborted) return;
    this.#resyncTimer = setTimeout(() => {
      this.resync();
      this.#scheduleResync();
    }, withJitter(this.#o.resyncMs, 0.1));
    this.#resyncTimer.unref();
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    let needList = true;
    while (!signal.aborted) {
      if (needList) {
        try {
          await this.#relist();
          needList = false;
        } catch (err) {
          this.#o.logger.warn("list failed; retrying", { resource: this.resource, err });
          this.#o.onWatchRestart?.("error");
          await sleep(this.#backoff.next(), signal);
          continue;
        }
      }
      const started = Date.now();
      let events = 0;
      const end = await this.#watchOnce(() => events++);
      if (signal.aborted) break;
      const requested = this.#requested;
      this.#requested = undefined;
      const reason: RestartReason = requested ?? reasonOf(end);
      needList = reason === "resync" || reason === "expired";
      this.#o.onWatchRestart?.(reason);
      // A stream that delivered events or lived a while was healthy: the next failure starts the backoff afresh.
      if (events > 0 || Date.now() - started > 5000) this.#backoff.reset();
      if (reason === "error" || reason === "timeout" || (reason === "closed" && events === 0 && Date.now() - started < 1000)) {
        const delay = this.#backoff.next();
        const err = end.kind === "failed" ? end.error : undefined;
        this.#o.logger.warn("watch ended; reconnecting", { resource: this.resource, reason, delayMs: delay, err });
        await sleep(delay, signal);
      } else {
        this.#o.logger.debug("watch restarted", { resource: this.resource, reason });
      }
    }
  }

  async #watchOnce(counted: () => void): Promise<WatchEnd> {
    try {
      const handle = await this.#o.client.watch(this.#resourceVersion, (type, object) => (counted(), this.#apply(type, object)), {
        timeoutSeconds: this.#o.watchTimeoutSeconds ?? withJitter(300, 1),
        inactivityTimeoutMs: this.#o.inactivityTimeoutMs ?? 120_000,
      });
      this.#watch = handle;
      if (this.#stop.signal.aborted || this.#requested !== undefined) handle.stop();
      return await handle.ended;
    } catch (err) {
      return { kind: "failed", error: err instanceof Error ? err : new Error(String(err)), timedOut: false };
    } finally {
      this.#watch = undefined;
    }
  }

  async #relist(): Promise<void> {
    const { items, resourceVersion } = await this.#o.client.list();
    const previous = this.#cache;
    const next = new Map(items.map((item) => this.#transform(item)).map((o) => [objectKey(o), o] as const));
    this.#cache = next;
    this.#resourceVersion = resourceVersion;
    if (this.#requested === "resync") this.#requested = undefined;
    this.#o.onRelist?.();
    for (const [key, object] of next) {
      const old = previous.get(key);
      if (old === undefined) this.#notify((h) => h.added?.(object));
      else if (old.metadata.resourceVersion !== object.metadata.resourceVersion) this.#notify((h) => h.updated?.(old, object));
    }
    for (const [key, old] of previous) if (!next.has(key)) this.#notify((h) => h.deleted?.(old));
    if (!this.#synced) {
      this.#synced = true;
      for (const resolve of this.#syncWaiters.splice(0)) resolve();
    }
    const all = [...next.values()];
    this.#notify((h) => h.resynced?.(all));
  }

  #apply(type: WatchEventType, raw: T): void {
    if (raw.metadata.resourceVersion) this.#resourceVersion = raw.metadata.resourceVersion;
    if (type === "BOOKMARK") return;
    const object = this.#transform(raw);
    const key = objectKey(object);
    const old = this.#cache.get(key);
    if (type === "DELETED") {
      this.#cache.delete(key);
      this.#notify((h) => h.deleted?.(old ?? object));
      return;
    }
    this.#cache.set(key, object);
    if (old === undefined) this.#notify((h) => h.added?.(object));
    else this.#notify((h) => h.updated?.(old, object));
  }

  #transform(object: T): T {
    return this.#o.transform === undefined ? object : this.#o.transform(object);
  }

  /** One failing handler must neither starve the others nor break the stream. */
  #notify(call: (handler: InformerHandler<T>) => void): void {
    for (const handler of this.#handlers) {
      try {
        call(handler);
      } catch (err) {
        this.#o.logger.error("informer handler failed", { resource: this.resource, err });
      }
    }
  }
}

function reasonOf(end: WatchEnd): RestartReason {
  if (end.kind === "closed") return "closed";
  if (end.kind === "expired") return "expired";
  return end.timedOut ? "timeout" : "error";
}
