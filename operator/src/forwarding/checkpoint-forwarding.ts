import type { Pool } from "@trailkeeper/core/db/pool.ts";
import { forwardCheckpoints } from "@trailkeeper/core/forwarding/checkpoint-forwarding.ts";
import type { EventSender } from "@trailkeeper/core/forwarding/types.ts";
import type { Logger } from "@trailkeeper/core/log.ts";
import type { DestinationCatalog, ResolvedDestination } from "../controllers/destination-catalog.ts";
import type { WitnessMetrics } from "./witness-metrics.ts";

export interface CheckpointForwardingDeps {
  pool: Pool;
  makeSender: (d: ResolvedDestination) => EventSender;
  intervalMs: number;
  logger: Logger;
  metrics?: WitnessMetrics;
}

interface Entry {
  destination: ResolvedDestination;
  sender: EventSender;
  lastError?: string;
}

/**
 * Witnessing in the SIEMs (docs/integrity.md §7): while this replica leads, every enabled LogForwardingDestination
 * also gets its tenant's signed checkpoints, as the kind's checkpoint record, through a sender of its own (so a
 * checkpoint never waits behind a backlog of events, nor they behind it). A durable cursor per destination
 * (`checkpoint_publications`, target `lfd:<uid>`) makes it at least once and in order.
 */
export class CheckpointForwarding {
  readonly #entries = new Map<string, Entry>();
  readonly #d: CheckpointForwardingDeps;
  #round: Promise<void> = Promise.resolve();
  #abort = new AbortController();

  constructor(deps: CheckpointForwardingDeps) {
    this.#d = deps;
  }

  /** Serves the catalog's destinations until `signal` aborts (the end of the leadership term). */
  serve(catalog: DestinationCatalog, signal: AbortSignal): void {
    this.#abort = new AbortController();
    const unsubscribe = catalog.subscribe((key, d) => this.#set(key, d));
    const tick = setInterval(() => void this.runOnce(), this.#d.intervalMs);
    signal.addEventListener("abort", () => {
      unsubscribe();
      clearInterval(tick);
      this.#abort.abort();
    }, { once: true });
  }

  #set(key: string, d: ResolvedDestination | undefined): void {
    const old = this.#entries.get(key);
    if (old && d && old.destination.revision === d.revision) return void (old.destination = d);
    if (old) void old.sender.close().catch(() => {});
    this.#entries.delete(key);
    if (d) this.#entries.set(key, { destination: d, sender: this.#d.makeSender(d) });
  }

  /** One round over every destination; rounds never overlap. */
  runOnce(): Promise<void> {
    this.#round = this.#round.then(async () => {
      for (const [key, entry] of this.#entries) await this.#forward(key, entry);
    });
    return this.#round;
  }

  async #forward(key: string, entry: Entry): Promise<void> {
    const { destination: d, sender } = entry;
    try {
      const sent = await forwardCheckpoints(this.#d.pool, { sender, target: `lfd:${d.uid}`, resource: key, tenant: d.tenant }, this.#abort.signal);
      this.#d.metrics?.published.inc({ target: key, kind: d.kind }, sent);
      if (sent > 0) this.#d.logger.info("checkpoints forwarded", { destination: key, tenant: d.tenant, sent });
      entry.lastError = undefined;
    } catch (err) {
      const message = (err as Error).message;
      this.#d.metrics?.failures.inc({ target: key, kind: d.kind });
      if (entry.lastError !== message) this.#d.logger.warn("forwarding checkpoints failed; retried next round", { destination: key, err });
      entry.lastError = message;
    }
  }

  /** Waits for the round in flight and closes every sender. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#round;
    await Promise.all([...this.#entries.values()].map((e) => e.sender.close().catch(() => {})));
    this.#entries.clear();
  }
}
