import type { Logger } from "@trailkeeper/core/log.ts";
import { isConflict, KubeApiError } from "../kube/errors.ts";
import type { OperatorMetrics } from "../metrics.ts";
import { WorkQueue } from "./work-queue.ts";

export interface ReconcileResult {
  /** Come back after this long (periodic checks); undefined waits for the next change. */
  requeueAfterMs?: number | undefined;
}

export interface Reconciler {
  /** Level-based: looks up the current state of `key` itself. `signal` aborts when leadership or the process ends. */
  reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult>;
}

export interface ControllerOptions {
  kind: string;
  reconciler: Reconciler;
  /** Every key the controller is responsible for, enqueued when a leadership term starts. */
  keys: () => string[];
  workers: number;
  metrics: OperatorMetrics;
  logger: Logger;
}

/**
 * Runs one kind's reconciles from a work queue while this replica leads. Each term gets a fresh queue: a
 * non-leader holds no queue, and a new leader starts with every key, since it cannot know what the previous
 * leader left undone.
 */
export class Controller {
  readonly kind: string;
  readonly #o: ControllerOptions;
  #queue: WorkQueue | undefined;
  #workers: Promise<void>[] = [];

  constructor(options: ControllerOptions) {
    this.kind = options.kind;
    this.#o = options;
  }

  get running(): boolean {
    return this.#queue !== undefined;
  }

  /** Queues `key` if this replica is leading; otherwise the next term's initial sweep covers it. */
  enqueue(key: string): void {
    this.#queue?.add(key);
    this.#gauge();
  }

  startTerm(signal: AbortSignal): void {
    if (this.#queue !== undefined) return;
    const queue = new WorkQueue();
    this.#queue = queue;
    for (const key of this.#o.keys()) queue.add(key);
    this.#workers = Array.from({ length: this.#o.workers }, () => this.#work(queue, signal));
    this.#gauge();
  }

  /** Stops taking keys and waits for reconciles in flight, which see their signal aborted. */
  async stopTerm(): Promise<void> {
    const queue = this.#queue;
    if (queue === undefined) return;
    this.#queue = undefined;
    queue.shutDown();
    await Promise.allSettled(this.#workers);
    this.#workers = [];
    this.#o.metrics.queueDepth.set({ kind: this.kind }, 0);
  }

  async #work(queue: WorkQueue, signal: AbortSignal): Promise<void> {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      await this.#processOne(queue, key, signal);
      this.#gauge();
    }
  }

  async #processOne(queue: WorkQueue, key: string, signal: AbortSignal): Promise<void> {
    const { metrics, logger } = this.#o;
    const endTimer = metrics.reconcileDuration.startTimer({ kind: this.kind });
    let result = "success";
    try {
      const outcome = await this.#o.reconciler.reconcile(key, signal);
      queue.forget(key);
      if (outcome.requeueAfterMs !== undefined) queue.addAfter(key, outcome.requeueAfterMs);
    } catch (err) {
      if (signal.aborted) {
        result = "cancelled";
      } else {
        const conflict = isConflict(err);
        result = conflict ? "conflict" : "error";
        const delayMs = queue.addRateLimited(key);
        // A conflict only means the cache was behind our own write or the forwarder's; the retry sees the news.
        if (!conflict) {
          metrics.reconcileErrors.inc({ kind: this.kind, reason: err instanceof KubeApiError ? (err.reason ?? String(err.status)) : "Unexpected" });
          logger.warn("reconcile failed; retrying", { kind: this.kind, key, delayMs, err });
        }
      }
    } finally {
      queue.done(key);
      endTimer();
      metrics.reconciles.inc({ kind: this.kind, result });
    }
  }

  #gauge(): void {
    if (this.#queue !== undefined) this.#o.metrics.queueDepth.set({ kind: this.kind }, this.#queue.length);
  }
}
