import { backoffDelay, type BackoffPolicy, type Random } from "./backoff.ts";

/** client-go's defaults start at 5 ms; API errors here are rarely that brief, so retries start at 100 ms. */
export const defaultRetryPolicy: BackoffPolicy = { baseMs: 100, maxMs: 5 * 60_000, jitter: 0.2 };

interface Delayed {
  at: number;
  timer: NodeJS.Timeout;
}

/**
 * The controller-runtime work queue contract: it holds keys (`namespace/name`), never events, so a burst of
 * changes to one object collapses into one reconcile; a key is handed to one worker at a time, and a key added
 * while it is being processed runs once more afterwards; failed keys come back after a per-key exponential
 * backoff; `addAfter` schedules periodic work.
 */
export class WorkQueue {
  readonly #retry: BackoffPolicy;
  readonly #random: Random;
  readonly #now: () => number;
  readonly #ready: string[] = [];
  readonly #queued = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #delayed = new Map<string, Delayed>();
  readonly #failures = new Map<string, number>();
  readonly #waiters: ((key: string | undefined) => void)[] = [];
  #shuttingDown = false;

  constructor(options: { retry?: BackoffPolicy; random?: Random; now?: () => number } = {}) {
    this.#retry = options.retry ?? defaultRetryPolicy;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
  }

  /** Queues the key now. A pending delayed add is dropped: the reconcile that follows schedules the next one. */
  add(key: string): void {
    if (this.#shuttingDown) return;
    this.#cancelDelayed(key);
    if (this.#processing.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      this.#processing.add(key);
      waiter(key);
      return;
    }
    this.#queued.add(key);
    this.#ready.push(key);
  }

  /** Queues the key after `ms`; when one is already scheduled, the earlier of the two wins. */
  addAfter(key: string, ms: number): void {
    if (this.#shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = this.#now() + ms;
    const existing = this.#delayed.get(key);
    if (existing !== undefined && existing.at <= at) return;
    if (existing !== undefined) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.#delayed.set(key, { at, timer });
  }

  /** Queues the key after its next backoff delay; returns that delay. */
  addRateLimited(key: string): number {
    const attempt = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, attempt);
    const delay = backoffDelay(this.#retry, attempt, this.#random);
    this.addAfter(key, delay);
    return delay;
  }

  /** Clears the key's failure count after a success. */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** The next key to process; undefined once the queue is shut down. Call `done(key)` when finished. */
  get(): Promise<string | undefined> {
    const key = this.#ready.shift();
    if (key !== undefined) {
      this.#queued.delete(key);
      this.#processing.add(key);
      return Promise.resolve(key);
    }
    if (this.#shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.delete(key)) this.add(key);
  }

  /** Keys waiting to be processed now (not the delayed ones). */
  get length(): number {
    return this.#ready.length;
  }

  get delayedCount(): number {
    return this.#delayed.size;
  }

  /** Drops every pending key and timer and releases waiting workers; keys in flight finish normally. */
  shutDown(): void {
    this.#shuttingDown = true;
    for (const d of this.#delayed.values()) clearTimeout(d.timer);
    this.#delayed.clear();
    this.#ready.length = 0;
    this.#queued.clear();
    this.#dirty.clear();
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
  }

  #cancelDelayed(key: string): void {
    const d = this.#delayed.get(key);
    if (d === undefined) return;
    clearTimeout(d.timer);
    this.#delayed.delete(key);
  }
}
