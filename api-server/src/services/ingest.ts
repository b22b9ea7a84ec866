import { appendToChain, type AppendedRef } from "@trailkeeper/core/db/event-store.ts";
import { inTransaction, type Pool } from "@trailkeeper/core/db/pool.ts";
import type { PendingEvent } from "@trailkeeper/core/events/model.ts";

interface Waiter {
  events: PendingEvent[];
  resolve: (refs: AppendedRef[]) => void;
  reject: (err: unknown) => void;
}

interface TenantQueue {
  waiting: Waiter[];
  running: boolean;
}

export interface IngestObserver {
  committed(events: number, requests: number): void;
}

/** Most events one group transaction takes; the rest wait for the next one. */
const maxGroupEvents = 5000;

/**
 * Group commit: requests for one tenant that arrive while that tenant's previous transaction is running are
 * appended together in the next transaction. An idle tenant's request starts at once (after the current I/O
 * turn, so requests that arrived together share it). Each request stays all-or-nothing: if a group fails,
 * its requests are retried one by one so that one failure cannot fail the others.
 */
export class IngestBatcher {
  readonly #pool: Pool;
  readonly #observer: IngestObserver;
  readonly #queues = new Map<string, TenantQueue>();
  readonly #inflight = new Set<Promise<void>>();

  constructor(pool: Pool, observer: IngestObserver = { committed: () => {} }) {
    this.#pool = pool;
    this.#observer = observer;
  }

  append(tenant: string, events: PendingEvent[]): Promise<AppendedRef[]> {
    return new Promise((resolve, reject) => {
      let q = this.#queues.get(tenant);
      if (!q) this.#queues.set(tenant, (q = { waiting: [], running: false }));
      q.waiting.push({ events, resolve, reject });
      if (!q.running) {
        q.running = true;
        setImmediate(() => this.#track(this.#drain(tenant, q)));
      }
    });
  }

  /** Resolves when every accepted request has been committed or failed (graceful shutdown). */
  async idle(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }

  #track(p: Promise<void>): void {
    this.#inflight.add(p);
    void p.finally(() => this.#inflight.delete(p));
  }

  async #drain(tenant: string, q: TenantQueue): Promise<void> {
    while (q.waiting.length > 0) {
      const group = takeGroup(q.waiting);
      await this.#commitGroup(tenant, group);
    }
    q.running = false;
    this.#queues.delete(tenant);
  }

  async #commitGroup(tenant: string, group: Waiter[]): Promise<void> {
    try {
      const refs = await this.#commit(tenant, group.flatMap((w) => w.events));
      let offset = 0;
      for (const w of group) {
        w.resolve(refs.slice(offset, offset + w.events.length));
        offset += w.events.length;
      }
      this.#observer.committed(refs.length, group.length);
    } catch (err) {
      if (group.length === 1) return group[0]!.reject(err);
      for (const w of group) await this.#commitGroup(tenant, [w]);
    }
  }

  #commit(tenant: string, events: PendingEvent[]): Promise<AppendedRef[]> {
    return inTransaction(this.#pool, (client) => appendToChain(client, tenant, events));
  }
}

function takeGroup(waiting: Waiter[]): Waiter[] {
  let n = 0;
  let events = 0;
  while (n < waiting.length && (n === 0 || events + waiting[n]!.events.length <= maxGroupEvents)) {
    events += waiting[n]!.events.length;
    n += 1;
  }
  return waiting.splice(0, n);
}
