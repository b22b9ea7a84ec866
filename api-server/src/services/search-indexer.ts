import { indexSearchStep, searchIndexBatch, searchIndexLag, type TenantLag } from "@trailkeeper/core/db/search-index.ts";
import type { Pool } from "@trailkeeper/core/db/pool.ts";
import type { Logger } from "@trailkeeper/core/log.ts";

/** Events per tenant per pause while the indexer yields to appends. */
export const deferredBatch = 1_000;
/** How long appends may go on before they count as a sustained load, which the indexer keeps pace with. */
export const defaultMaxDeferredMs = 30_000;

/**
 * What the next round does. While appends arrive and fewer than `maxDeferred` events wait, the append path comes
 * first: a small batch, then a pause (a burst is acknowledged at the rate of the append path alone, and its
 * documents follow when it ends). Appends that have gone on for `maxDeferredMs` are not a burst but a sustained
 * load, which the indexer must keep pace with (else the backlog would climb to `maxDeferred` and stay there, and so
 * would the cost of every free-text search). Otherwise full batches, back to back while any tenant is behind.
 */
export function roundPlan(s: { appending: boolean; appendingForMs: number; behind: number | undefined; maxDeferred: number; maxDeferredMs: number; batch: number; deferredBatch: number }): { batch: number; pauseAfter: boolean } {
  const yieldToAppends = s.appending && s.maxDeferred > 0 && (s.behind ?? 0) < s.maxDeferred && s.appendingForMs < s.maxDeferredMs;
  return yieldToAppends ? { batch: Math.min(s.deferredBatch, s.batch), pauseAfter: true } : { batch: s.batch, pauseAfter: false };
}

export interface SearchIndexerOptions {
  pool: Pool;
  log: Logger;
  /** Pause after a round that left no tenant behind; the next round then indexes what arrived meanwhile at once. */
  idleMs: number;
  batch?: number;
  /**
   * Events appended by this replica so far (a counter). While it moves, the indexer yields to the append path:
   * one batch of `deferredBatch` events per tenant per pause, as long as fewer than `maxDeferred` events wait.
   */
  appended?: () => number;
  /** Events left to wait while appends arrive (0: never yield). */
  maxDeferred?: number;
  /** How long appends may go on before the indexer stops yielding to them (a sustained load, not a burst). */
  maxDeferredMs?: number;
  deferredBatch?: number;
  /** After each round: the events still without a search document, over all tenants. */
  onLag?: (events: number) => void;
  onIndexed?: (events: number) => void;
}

/**
 * The search indexer (ADR 9): writes the free-text documents of appended events to `search_documents`, off the
 * append path. Each round gives every tenant that is behind one batch (so one busy tenant cannot starve the
 * others) and starts the next round at once while any tenant is behind; otherwise it waits `idleMs`, so that
 * documents go in as large batches even under a steady trickle of single events. While this replica is appending,
 * it yields to the append path up to `maxDeferred` waiting events and for at most `maxDeferredMs` (roundPlan).
 * Searches stay complete meanwhile: they recompute the document of events above a tenant's mark. Every replica runs
 * one; a per-tenant advisory lock keeps them from doing the same work. A failed round (the database went away) is
 * logged and retried after the pause, never thrown.
 */
export class SearchIndexer {
  readonly #opts: SearchIndexerOptions;
  #stopped = false;
  #loop: Promise<void> = Promise.resolve();
  #sleep: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
  #failing = false;

  constructor(opts: SearchIndexerOptions) {
    this.#opts = opts;
  }

  start(): void {
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    let seen = this.#opts.appended?.() ?? 0;
    let behind: number | undefined = 0;
    // Since when every round has seen new appends (undefined: the last round saw none).
    let appendingSince: number | undefined;
    while (!this.#stopped) {
      const now = this.#opts.appended?.() ?? 0;
      const appending = now !== seen;
      appendingSince = appending ? (appendingSince ?? performance.now()) : undefined;
      const plan = roundPlan({
        appending, appendingForMs: appendingSince === undefined ? 0 : performance.now() - appendingSince, behind,
        maxDeferred: this.#opts.maxDeferred ?? 0, maxDeferredMs: this.#opts.maxDeferredMs ?? defaultMaxDeferredMs,
        batch: this.#opts.batch ?? searchIndexBatch, deferredBatch: this.#opts.deferredBatch ?? deferredBatch,
      });
      seen = now;
      behind = await this.runRound(plan.batch);
      if (behind === 0 || behind === undefined || plan.pauseAfter) await this.#pause();
    }
  }

  /**
   * One round of at most `batch` events per tenant; answers the events still behind after it (undefined when the
   * round failed). Exposed for tests and for `runUntilCurrent`.
   */
  async runRound(batch = this.#opts.batch): Promise<number | undefined> {
    try {
      const lag = await searchIndexLag(this.#opts.pool);
      let behind = 0;
      for (const t of lag) {
        if (this.#stopped) return undefined;
        behind += await this.#step(t, batch);
      }
      this.#opts.onLag?.(behind);
      if (this.#failing) this.#opts.log.info("search indexer running again");
      this.#failing = false;
      return behind;
    } catch (err) {
      // Said once per outage: a database that is away fails every round the same way.
      if (!this.#failing) this.#opts.log.warn("search indexing failed; retrying", { err });
      this.#failing = true;
      return undefined;
    }
  }

  async #step(t: TenantLag, batch: number | undefined): Promise<number> {
    const step = await indexSearchStep(this.#opts.pool, t.tenant, batch);
    if (step.indexed > 0) this.#opts.onIndexed?.(step.indexed);
    return step.behind;
  }

  /** Indexes until no tenant is behind (tests, benchmarks). */
  async runUntilCurrent(): Promise<void> {
    for (;;) {
      const behind = await this.runRound();
      if (behind === 0) return;
      if (behind === undefined) throw new Error("search indexing failed (see the log)");
    }
  }

  #pause(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#sleep = undefined;
        resolve();
      }, this.#opts.idleMs);
      this.#sleep = { timer, resolve };
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#sleep) {
      clearTimeout(this.#sleep.timer);
      this.#sleep.resolve();
      this.#sleep = undefined;
    }
    await this.#loop;
  }
}
