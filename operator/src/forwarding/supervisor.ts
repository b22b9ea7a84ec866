import { parseDuration } from "@trailkeeper/core/crd/duration.ts";
import { logForwardingDestinationNames, type DeliveryStatus } from "@trailkeeper/core/crd/log-forwarding-destination.ts";
import type { Pool } from "@trailkeeper/core/db/pool.ts";
import type { EventSender } from "@trailkeeper/core/forwarding/types.ts";
import { Forwarder, type ForwarderStats } from "@trailkeeper/core/forwarding/forwarder.ts";
import type { AppendNotifier } from "@trailkeeper/core/forwarding/notifier.ts";
import { applyReplay, seqBefore } from "@trailkeeper/core/forwarding/store.ts";
import type { Logger } from "@trailkeeper/core/log.ts";
import type { DestinationCatalog, ResolvedDestination } from "../controllers/destination-catalog.ts";
import type { KubeGateway } from "../kube/gateway.ts";
import type { CustomObject } from "../kube/types.ts";
import type { Informer } from "../runtime/informer.ts";
import type { ForwardingMetrics } from "./metrics.ts";
import { parseReplay, replayAnnotation } from "./replay.ts";

export interface ForwardingDeps {
  pool: Pool;
  notifier: AppendNotifier;
  gateway: KubeGateway;
  objects: Informer<CustomObject>;
  makeSender: (d: ResolvedDestination) => EventSender;
  metrics: ForwardingMetrics;
  logger: Logger;
  /** status.delivery is written at most this often per destination (Argo CD should ignore it: docs/gitops). */
  statusIntervalMs?: number;
  /** How often annotations are looked at for replay requests. */
  replayPollMs?: number;
}

interface Running {
  destination: ResolvedDestination;
  forwarder: Forwarder;
  unsubscribe: () => void;
  replayToken: string | undefined;
  lastStatus: string;
  lastStatusAt: number;
  reported: { delivered: number; failed: number; deadLettered: number };
}

/**
 * Runs one forwarder per enabled LogForwardingDestination while this replica leads: starts, restarts on a new
 * revision (spec, Secrets, tenant) or replay annotation, stops on withdrawal (deleted, disabled) and when the
 * term ends. Writes status.delivery and per-destination metrics.
 */
export class ForwardingSupervisor {
  readonly #d: ForwardingDeps;
  readonly #running = new Map<string, Running>();
  #chain: Promise<void> = Promise.resolve();

  constructor(deps: ForwardingDeps) {
    this.#d = deps;
  }

  /** Serves the catalog until `signal` aborts (the end of the leadership term). */
  serve(catalog: DestinationCatalog, signal: AbortSignal): void {
    const unsubscribe = catalog.subscribe((key, d) => this.#enqueue(() => this.#apply(key, d)));
    const tick = setInterval(() => this.#enqueue(() => this.#housekeeping()), this.#d.replayPollMs ?? 2000);
    signal.addEventListener("abort", () => {
      unsubscribe();
      clearInterval(tick);
    }, { once: true });
  }

  /** Stops every forwarder (end of term or shutdown); waits for in-flight batches to settle. */
  stopAll(): Promise<void> {
    return this.#enqueue(async () => {
      await Promise.all([...this.#running.keys()].map((k) => this.#stop(k)));
    });
  }

  /** Changes are applied one at a time, in order, so a restart never races its own stop. */
  #enqueue(fn: () => Promise<void>): Promise<void> {
    this.#chain = this.#chain.then(fn).catch((err: unknown) => this.#d.logger.error("forwarding supervisor step failed", { err }));
    return this.#chain;
  }

  async #apply(key: string, d: ResolvedDestination | undefined): Promise<void> {
    const current = this.#running.get(key);
    if (d === undefined) return void (current && (await this.#stop(key)));
    // The revision includes the uid: a recreated resource restarts its forwarder.
    if (current && current.destination.revision === d.revision) {
      current.destination = d;
      return;
    }
    if (current) await this.#stop(key);
    await this.#start(key, d);
  }

  async #start(key: string, d: ResolvedDestination): Promise<void> {
    const replayToken = await this.#applyReplayIfAsked(key, d);
    const delivery = d.spec.delivery;
    const forwarder = new Forwarder({
      pool: this.#d.pool,
      uid: d.uid,
      tenant: d.tenant,
      resource: key,
      filter: d.spec.filter ?? {},
      sender: this.#d.makeSender(d),
      tuning: { batchSize: delivery.batchSize, batchBytes: delivery.batchBytes, maxBackoffMs: parseDuration(delivery.maxBackoff), onPermanentError: delivery.onPermanentError },
      log: this.#d.logger.child({ destination: key }),
      pollIntervalMs: Math.max(1000, parseDuration(delivery.flushInterval) * 5),
      onProgress: (stats) => this.#progress(key, stats),
    });
    const unsubscribe = this.#d.notifier.subscribe(d.tenant, () => forwarder.wake());
    this.#running.set(key, { destination: d, forwarder, unsubscribe, replayToken, lastStatus: "", lastStatusAt: 0, reported: { delivered: -1, failed: -1, deadLettered: -1 } });
    forwarder.start();
    this.#d.logger.info("forwarder started", { destination: key, tenant: d.tenant, kind: d.kind });
  }

  async #stop(key: string): Promise<void> {
    const r = this.#running.get(key);
    if (!r) return;
    this.#running.delete(key);
    r.unsubscribe();
    await r.forwarder.stop();
    this.#d.logger.info("forwarder stopped", { destination: key });
  }

  /** A new value of the replay annotation rewinds the cursor once (the value applied is kept in the database). */
  async #applyReplayIfAsked(key: string, d: ResolvedDestination): Promise<string | undefined> {
    const token = this.#d.objects.get(key)?.metadata.annotations?.[replayAnnotation];
    if (token === undefined) return undefined;
    const request = parseReplay(token);
    if (!request) {
      this.#d.logger.warn("ignoring a malformed replay annotation", { destination: key, value: token });
      return token;
    }
    const seqOf = async () => ("seq" in request ? request.seq - 1 : seqBefore(this.#d.pool, d.tenant, request.time));
    if (await applyReplay(this.#d.pool, d.uid, d.tenant, key, token, seqOf)) this.#d.logger.info("replaying", { destination: key, from: token });
    return token;
  }

  /** Restarts destinations whose replay annotation changed, and writes due status. */
  async #housekeeping(): Promise<void> {
    for (const [key, r] of this.#running) {
      const token = this.#d.objects.get(key)?.metadata.annotations?.[replayAnnotation];
      if (token !== undefined && token !== r.replayToken) {
        await this.#stop(key);
        await this.#start(key, r.destination);
      } else {
        await this.#writeStatus(key, r);
      }
    }
  }

  #progress(key: string, stats: ForwarderStats): void {
    const r = this.#running.get(key);
    if (!r) return;
    const m = this.#d.metrics;
    const labels = { destination: key, type: r.destination.kind };
    // Totals come from the database (they survive failover); counters grow by the difference.
    if (r.reported.delivered >= 0) {
      m.delivered.inc(labels, Math.max(0, stats.delivered - r.reported.delivered));
      m.failed.inc(labels, Math.max(0, stats.failed - r.reported.failed));
      m.deadLettered.inc(labels, Math.max(0, stats.deadLettered - r.reported.deadLettered));
    }
    r.reported = { delivered: stats.delivered, failed: stats.failed, deadLettered: stats.deadLettered };
    m.lagEvents.set(labels, stats.lagEvents);
    m.lagSeconds.set(labels, stats.lagSeconds);
  }

  /** Writes status.delivery at most every statusIntervalMs (called from housekeeping), and only when it changed. */
  async #writeStatus(key: string, r: Running): Promise<void> {
    if (this.#running.get(key) !== r) return;
    const now = Date.now();
    if (now - r.lastStatusAt < (this.#d.statusIntervalMs ?? 30_000)) return;
    const s = r.forwarder.stats;
    const delivery: DeliveryStatus = {
      delivered: s.delivered, failed: s.failed, deadLettered: s.deadLettered, lagEvents: s.lagEvents, cursorSeq: s.cursorSeq,
      ...(s.lastDeliveredAt ? { lastDeliveredAt: s.lastDeliveredAt } : {}),
      ...(s.lastError ? { lastError: s.lastError.slice(0, 1024) } : {}),
    } as DeliveryStatus;
    const text = JSON.stringify(delivery);
    r.lastStatusAt = now;
    if (text === r.lastStatus) return;
    try {
      await this.#d.gateway.patchStatus(logForwardingDestinationNames.plural, r.destination.namespace, r.destination.name, { delivery });
      r.lastStatus = text;
    } catch (err) {
      this.#d.logger.warn("writing status.delivery failed", { destination: key, err });
    }
  }
}
