import type { Logger } from "@trailkeeper/core/log.ts";
import { isConflict } from "../kube/errors.ts";
import type { LeaseRecord, LeaseStore } from "../kube/types.ts";
import { sleep, withJitter } from "./backoff.ts";
import { decideLease, releasedLease, sameLeaseState } from "./lease-decision.ts";

export interface LeaderElectionOptions {
  store: LeaseStore;
  identity: string;
  /** How long a holder's lease lasts without renewal: the longest a crashed leader blocks a successor. */
  leaseDurationMs: number;
  /** A leader that has not renewed for this long steps down, before its lease can expire for the others. */
  renewDeadlineMs: number;
  /** Pause between attempts to acquire or renew. */
  retryPeriodMs: number;
  logger: Logger;
  now?: () => number;
}

/** Called when this replica becomes leader; `signal` aborts when leadership ends, for work tied to the term. */
export type StartedLeading = (signal: AbortSignal) => void;
/** Called when leadership ends; the Lease is released only after every returned promise settles. */
export type StoppedLeading = () => void | Promise<void>;

/**
 * Leader election on a coordination.k8s.io/v1 Lease with client-go's semantics: every write carries the Lease's
 * resourceVersion, so of two candidates racing only one wins; a leader steps down when it cannot renew within the
 * renew deadline; a clean stop releases the Lease so a standby takes over without waiting for expiry.
 */
export class LeaderElector {
  readonly #o: LeaderElectionOptions;
  readonly #now: () => number;
  readonly #started = new Set<StartedLeading>();
  readonly #stopped = new Set<StoppedLeading>();
  readonly #stop = new AbortController();
  #observed: LeaseRecord | undefined;
  #observedAt = 0;
  #term: AbortController | undefined;
  #loop: Promise<void> | undefined;
  #leaseProblem: string | undefined;

  constructor(options: LeaderElectionOptions) {
    if (!(options.leaseDurationMs > options.renewDeadlineMs && options.renewDeadlineMs > options.retryPeriodMs)) {
      throw new Error("leader election needs lease duration > renew deadline > retry period");
    }
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  get isLeader(): boolean {
    return this.#term !== undefined;
  }

  /** Why the last round could neither take nor renew the Lease nor see who holds it (readiness); undefined when it could. */
  get leaseProblem(): string | undefined {
    return this.#leaseProblem;
  }

  onStartedLeading(callback: StartedLeading): () => void {
    this.#started.add(callback);
    if (this.#term !== undefined) callback(this.#term.signal);
    return () => this.#started.delete(callback);
  }

  onStoppedLeading(callback: StoppedLeading): () => void {
    this.#stopped.add(callback);
    return () => this.#stopped.delete(callback);
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Stops campaigning; a leader first ends its term (callbacks settle), then releases the Lease. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    if (this.#term === undefined) return;
    await this.#endTerm("shutdown");
    const current = this.#observed;
    if (current?.holderIdentity !== this.#o.identity) return;
    try {
      await this.#o.store.update(releasedLease(current, this.#now()));
      this.#o.logger.info("released leader lease", { lease: `${this.#o.store.namespace}/${this.#o.store.name}` });
    } catch (err) {
      this.#o.logger.warn("could not release leader lease; a standby takes over when it expires", { err });
    }
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    let lastRenew = 0;
    while (!signal.aborted) {
      if (this.#term === undefined) {
        if (await this.#tryAcquireOrRenew()) {
          lastRenew = this.#now();
          this.#beginTerm();
          continue;
        }
        // client-go's jitter factor 1.2: candidates that lost together do not retry together.
        await sleep(withJitter(this.#o.retryPeriodMs, 1.2), signal);
        continue;
      }
      await sleep(this.#o.retryPeriodMs, signal);
      if (signal.aborted) break;
      if (await this.#tryAcquireOrRenew()) {
        lastRenew = this.#now();
      } else if (this.#observedHolderIsOther() || this.#now() - lastRenew >= this.#o.renewDeadlineMs) {
        await this.#endTerm("lost");
      }
    }
  }

  #observedHolderIsOther(): boolean {
    const holder = this.#observed?.holderIdentity ?? "";
    return holder !== "" && holder !== this.#o.identity;
  }

  /** One round: read, decide, write. Any failure (conflict, timeout, network) is just a lost round. */
  async #tryAcquireOrRenew(): Promise<boolean> {
    const store = this.#o.store;
    try {
      const current = await this.#withDeadline(store.get());
      this.#leaseProblem = undefined;
      const now = this.#now();
      if (!sameLeaseState(current, this.#observed) || this.#observedAt === 0) this.#observe(current, now);
      const decision = decideLease({ current, observedAt: this.#observedAt }, this.#o.identity, Math.ceil(this.#o.leaseDurationMs / 1000), now);
      if (decision.action === "wait") return false;
      const written = await this.#withDeadline(decision.action === "create" ? store.create(decision.record) : store.update(decision.record));
      this.#observe(written, this.#now());
      return true;
    } catch (err) {
      if (!isConflict(err)) this.#leaseProblem = `cannot take or renew the Lease ${store.namespace}/${store.name}: ${(err as Error).message}`;
      if (!isConflict(err)) this.#o.logger.warn("leader lease round failed", { lease: `${store.namespace}/${store.name}`, err });
      return false;
    }
  }

  #observe(record: LeaseRecord | undefined, at: number): void {
    this.#observed = record;
    this.#observedAt = at;
  }

  /** A hung request must not keep a leader believing it leads past its renew deadline. */
  #withDeadline<T>(work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("lease request timed out")), this.#o.renewDeadlineMs);
      work.then(resolve, reject).finally(() => clearTimeout(timer));
    });
  }

  #beginTerm(): void {
    const term = new AbortController();
    this.#term = term;
    this.#o.logger.info("became leader", { identity: this.#o.identity, lease: `${this.#o.store.namespace}/${this.#o.store.name}` });
    for (const callback of this.#started) {
      try {
        callback(term.signal);
      } catch (err) {
        this.#o.logger.error("onStartedLeading callback failed", { err });
      }
    }
  }

  async #endTerm(why: "lost" | "shutdown"): Promise<void> {
    const term = this.#term;
    if (term === undefined) return;
    this.#term = undefined;
    term.abort(new Error(`leadership ended (${why})`));
    this.#o.logger.info("stopped leading", { identity: this.#o.identity, why });
    await Promise.allSettled([...this.#stopped].map(async (callback) => callback()));
  }
}
