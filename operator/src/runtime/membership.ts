import type { Logger } from "@trailkeeper/core/log.ts";
import type { LeaseRecord, LeaseSet } from "../kube/types.ts";
import { sleep } from "./backoff.ts";
import { memberLeaseName, viewMembers, type MemberSighting } from "./membership-view.ts";

export interface MembershipOptions {
  leases: LeaseSet;
  /** The leader Lease's name: member Leases are `<setName>-member-<identity>`. */
  setName: string;
  identity: string;
  /** A member that has not renewed for this long is gone; its share moves to the others. */
  leaseDurationMs: number;
  /** A replica that could not renew its own Lease for this long leaves (its share is empty) until it renews again. */
  renewDeadlineMs: number;
  retryPeriodMs: number;
  logger: Logger;
  now?: () => number;
}

/** Called with the live members (sorted identities, this replica included) whenever the set changes. */
export type MembersListener = (members: readonly string[]) => void;

/**
 * The operator replicas that forward: each holds its own labelled Lease, renewed every retry period, and lists the
 * others. A clean stop deletes the Lease so the others take over at their next round instead of after expiry.
 */
export class Membership {
  readonly #o: MembershipOptions;
  readonly #now: () => number;
  readonly #name: string;
  readonly #listeners = new Set<MembersListener>();
  readonly #stop = new AbortController();
  #members: readonly string[] = [];
  #others: string[] = [];
  #sightings = new Map<string, MemberSighting>();
  #own: LeaseRecord | undefined;
  #lastRenew = Number.NEGATIVE_INFINITY;
  #loop: Promise<void> | undefined;

  constructor(options: MembershipOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#name = memberLeaseName(options.setName, options.identity);
  }

  get leaseName(): string {
    return this.#name;
  }

  /** The live members; empty while this replica cannot renew its own Lease. */
  get members(): readonly string[] {
    return this.#members;
  }

  /** `listener` hears the current members at once, then every change; returns the unsubscribe function. */
  onChange(listener: MembersListener): () => void {
    this.#listeners.add(listener);
    listener(this.#members);
    return () => this.#listeners.delete(listener);
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Leaves the set: listeners hear an empty set first (forwarders stop), then the Lease is deleted. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    this.#publish([]);
    if (this.#own === undefined) return;
    try {
      await this.#o.leases.delete(this.#name, this.#own.resourceVersion);
      this.#o.logger.info("left forwarding membership", { lease: `${this.#o.leases.namespace}/${this.#name}` });
    } catch (err) {
      this.#o.logger.warn("could not delete the member Lease; the others take over when it expires", { err });
    }
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      await this.#round();
      await sleep(this.#o.retryPeriodMs, signal);
    }
  }

  /** Renews this replica's Lease, reads the others' and publishes the live set. */
  async #round(): Promise<void> {
    await this.#renew();
    await this.#look();
    const healthy = this.#now() - this.#lastRenew < this.#o.renewDeadlineMs;
    this.#publish(healthy ? [...new Set([this.#o.identity, ...this.#others])].sort() : []);
  }

  async #renew(): Promise<void> {
    const store = this.#o.leases.lease(this.#name);
    try {
      const now = this.#now();
      const current = await this.#withDeadline(store.get());
      const record: LeaseRecord = {
        holderIdentity: this.#o.identity,
        leaseDurationSeconds: Math.ceil(this.#o.leaseDurationMs / 1000),
        acquireTime: current?.acquireTime ?? now,
        renewTime: now,
        resourceVersion: current?.resourceVersion,
      };
      this.#own = await this.#withDeadline(current === undefined ? store.create(record) : store.update(record));
      this.#lastRenew = now;
    } catch (err) {
      this.#o.logger.warn("member lease renewal failed", { lease: `${this.#o.leases.namespace}/${this.#name}`, err });
    }
  }

  /** Lists the set; on failure the last known others stay (this replica's own health decides alone). */
  async #look(): Promise<void> {
    try {
      const leases = await this.#withDeadline(this.#o.leases.list());
      const view = viewMembers(leases, this.#sightings, this.#name, this.#o.leaseDurationMs, this.#now());
      this.#sightings = view.sightings;
      this.#others = view.live;
      for (const gone of view.expired) {
        // Guarded by resourceVersion: a Lease renewed meanwhile is not deleted.
        await this.#o.leases.delete(gone.name, gone.resourceVersion).catch(() => {});
      }
    } catch (err) {
      this.#o.logger.warn("listing member leases failed", { selector: this.#o.leases.selector, err });
    }
  }

  #publish(members: readonly string[]): void {
    if (members.length === this.#members.length && members.every((m, i) => m === this.#members[i])) return;
    this.#members = members;
    this.#o.logger.info("forwarding members changed", { members });
    for (const listener of this.#listeners) listener(members);
  }

  /** A hung request must not keep a replica believing it is a member past its renew deadline. */
  #withDeadline<T>(work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("lease request timed out")), this.#o.renewDeadlineMs);
      work.then(resolve, reject).finally(() => clearTimeout(timer));
    });
  }
}
