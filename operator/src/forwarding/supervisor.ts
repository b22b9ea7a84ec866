import { parseDuration } from "@trailkeeper/core/crd/duration.ts";
import { logForwardingDestinationNames, type DeliveryStatus } from "@trailkeeper/core/crd/log-forwarding-destination.ts";
import type { Pool } from "@trailkeeper/core/db/pool.ts";
import type { EventSender } from "@trailkeeper/core/forwarding/types.ts";
import { Forwarder, type ForwarderStats } from "@trailkeeper/core/forwarding/forwarder.ts";
import type { AppendNotifier } from "@trailkeeper/core/forwarding/notifier.ts";
import { acquireCursor, applyReplay, latestDeadLetter, releaseCursor, renewCursors, seqBefore } from "@trailkeeper/core/forwarding/store.ts";
import type { Logger } from "@trailkeeper/core/log.ts";
import { nextCondition, readOwnedStatus } from "../controllers/conditions.ts";
import type { DestinationCatalog, ResolvedDestination } from "../controllers/destination-catalog.ts";
import type { KubeGateway } from "../kube/gateway.ts";
import type { CustomObject } from "../kube/types.ts";
import type { Informer } from "../runtime/informer.ts";
import { deliveryHealth, latestError, noObservations, observeStep, type DeliveryHealth, type DeliveryObservations } from "./delivery-health.ts";
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
  /** How often annotations are looked at for replay requests (and the Delivering condition re-evaluated). */
  replayPollMs?: number;
  /**
   * Forwarding across replicas: a forwarder starts only once this replica holds the destination's cursor in the
   * database, keeps it by renewing every `renewEveryMs` for `leaseMs`, and releases it when it stops.
   */
  ownership?: { identity: string; leaseMs: number; renewEveryMs: number };
  now?: () => number;
}

interface Running {
  destination: ResolvedDestination;
  forwarder: Forwarder;
  unsubscribe: () => void;
  replayToken: string | undefined;
  lastStatus: string;
  lastStatusAt: number;
  reported: { delivered: number; failed: number; deadLettered: number };
  observations: DeliveryObservations;
  /** The Delivering condition as last written (status and reason). */
  writtenHealth: string;
  /** The latest dead letter's reason, read again when the dead-letter total moves. */
  deadLetter: { total: number; error: string | undefined; reason: string | undefined };
}

/**
 * Runs one forwarder per destination of the catalog it serves (this replica's share): starts once it holds the
 * cursor, restarts on a new revision (spec, Secrets, tenant), a replay annotation or an error, stops on withdrawal
 * (deleted, disabled, moved) and when serving ends. Writes status.delivery and per-destination metrics.
 */
export class ForwardingSupervisor {
  readonly #d: ForwardingDeps;
  readonly #running = new Map<string, Running>();
  /** Destinations to forward whose cursor another replica still holds; tried again at every housekeeping. */
  readonly #waiting = new Map<string, ResolvedDestination>();
  #chain: Promise<void> = Promise.resolve();

  constructor(deps: ForwardingDeps) {
    this.#d = deps;
  }

  /** Serves the catalog until `signal` aborts (shutdown). */
  serve(catalog: DestinationCatalog, signal: AbortSignal): void {
    const unsubscribe = catalog.subscribe((key, d) => this.#enqueue(() => this.#apply(key, d)));
    const tick = setInterval(() => this.#enqueue(() => this.#housekeeping()), this.#d.replayPollMs ?? 2000);
    // Renewals run beside the queue, so a slow stop or status write cannot let a hold lapse.
    const renew = this.#d.ownership && setInterval(() => void this.#renewHolds(), this.#d.ownership.renewEveryMs);
    signal.addEventListener("abort", () => {
      unsubscribe();
      clearInterval(tick);
      clearInterval(renew);
    }, { once: true });
  }

  /** Keys of the destinations this replica forwards now. */
  get running(): string[] {
    return [...this.#running.keys()];
  }

  /** Stops every forwarder (end of term or shutdown); waits for in-flight batches to settle. */
  stopAll(): Promise<void> {
    return this.#enqueue(async () => {
      this.#waiting.clear();
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
    if (d === undefined) {
      this.#waiting.delete(key);
      return void (current && (await this.#stop(key)));
    }
    // The revision includes the uid: a recreated resource restarts its forwarder.
    if (current && current.destination.revision === d.revision) {
      current.destination = d;
      return;
    }
    if (current) await this.#stop(key);
    this.#waiting.set(key, d);
    await this.#startIfHeld(key);
  }

  /** Starts a waiting destination once this replica holds its cursor (the previous owner released it or lapsed). */
  async #startIfHeld(key: string): Promise<void> {
    const d = this.#waiting.get(key);
    const own = this.#d.ownership;
    if (d === undefined) return;
    if (own && !(await acquireCursor(this.#d.pool, d.uid, d.tenant, key, own.identity, own.leaseMs))) return;
    this.#waiting.delete(key);
    await this.#start(key, d);
  }

  /** Renews this replica's holds; a forwarder whose hold was lost stops and waits to take it again. */
  async #renewHolds(): Promise<void> {
    const own = this.#d.ownership!;
    const running = [...this.#running.values()];
    try {
      const held = await renewCursors(this.#d.pool, own.identity, running.map((r) => r.destination.uid), own.leaseMs);
      for (const r of running) if (!held.has(r.destination.uid)) void this.#enqueue(() => this.#requeue(r.destination.key, r));
    } catch (err) {
      this.#d.logger.warn("renewing cursor holds failed", { err });
    }
    // A hold the previous owner let lapse is taken within a renewal period, not only at the next housekeeping.
    if (this.#waiting.size > 0) void this.#enqueue(() => this.#startWaiting());
  }

  /** One destination failing to start (the database away) must not hold back the others or the housekeeping. */
  async #startWaiting(): Promise<void> {
    for (const key of [...this.#waiting.keys()]) {
      await this.#startIfHeld(key).catch((err: unknown) => this.#d.logger.warn("starting a forwarder failed; retrying", { destination: key, err }));
    }
  }

  /** Stops a forwarder that cannot go on (its hold lost, or it ended on an error) and lets it start again when it can. */
  async #requeue(key: string, r: Running): Promise<void> {
    if (this.#running.get(key) !== r) return;
    await this.#stop(key);
    this.#waiting.set(key, r.destination);
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
      owner: this.#d.ownership?.identity,
    });
    const unsubscribe = this.#d.notifier.subscribe(d.tenant, () => forwarder.wake());
    this.#running.set(key, {
      destination: d, forwarder, unsubscribe, replayToken, lastStatus: "", lastStatusAt: 0, reported: { delivered: -1, failed: -1, deadLettered: -1 },
      observations: noObservations, writtenHealth: "", deadLetter: { total: 0, error: undefined, reason: undefined },
    });
    forwarder.start();
    this.#d.logger.info("forwarder started", { destination: key, tenant: d.tenant, kind: d.kind });
  }

  async #stop(key: string): Promise<void> {
    const r = this.#running.get(key);
    if (!r) return;
    this.#running.delete(key);
    r.unsubscribe();
    await r.forwarder.stop();
    const own = this.#d.ownership;
    if (own) await releaseCursor(this.#d.pool, r.destination.uid, own.identity).catch((err: unknown) => this.#d.logger.warn("releasing a cursor failed; it lapses", { destination: key, err }));
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
    await this.#startWaiting();
    for (const [key, r] of [...this.#running]) {
      // Ended on its own: its hold was taken (the cursor compare-and-set failed) or the database failed.
      if (r.forwarder.stats.state === "stopped") {
        await this.#requeue(key, r);
        continue;
      }
      const token = this.#d.objects.get(key)?.metadata.annotations?.[replayAnnotation];
      if (token !== undefined && token !== r.replayToken) {
        // Through the hold: the stop released the cursor, and a forwarder must never run without holding it.
        await this.#requeue(key, r);
        await this.#startIfHeld(key);
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
    r.observations = observeStep(r.observations, stats, this.#now());
    m.lagEvents.set(labels, stats.lagEvents);
    m.lagSeconds.set(labels, stats.lagSeconds);
  }

  #now(): number {
    return (this.#d.now ?? Date.now)();
  }

  /**
   * Writes status.delivery at most every statusIntervalMs (called from housekeeping), and only when it changed; a
   * flip of the Delivering condition is written at once, with the other conditions kept (guarded by resourceVersion).
   */
  async #writeStatus(key: string, r: Running): Promise<void> {
    if (this.#running.get(key) !== r) return;
    const now = this.#now();
    const s = r.forwarder.stats;
    const lastError = latestError(r.observations, s.lastError, await this.#deadLetterError(r, s.deadLettered));
    const health = deliveryHealth(r.observations, s.state, lastError, now, r.deadLetter.reason);
    const flipped = `${health.status}/${health.reason}` !== r.writtenHealth;
    if (!flipped && now - r.lastStatusAt < (this.#d.statusIntervalMs ?? 30_000)) return;
    const delivery: DeliveryStatus = {
      delivered: s.delivered, failed: s.failed, deadLettered: s.deadLettered, lagEvents: s.lagEvents, cursorSeq: s.cursorSeq,
      ...(s.lastDeliveredAt ? { lastDeliveredAt: s.lastDeliveredAt } : {}),
      ...(lastError ? { lastError: lastError.slice(0, 1024) } : {}),
    } as DeliveryStatus;
    const text = JSON.stringify({ delivery, health });
    r.lastStatusAt = now;
    if (text === r.lastStatus) return;
    try {
      await this.#patch(key, r, delivery, health, now);
      r.lastStatus = text;
      r.writtenHealth = `${health.status}/${health.reason}`;
    } catch (err) {
      this.#d.logger.warn("writing status.delivery failed", { destination: key, err });
    }
  }

  /** The conditions list is replaced as a whole by a merge patch, so it is written only from a fresh cache copy. */
  async #patch(key: string, r: Running, delivery: DeliveryStatus, health: DeliveryHealth, now: number): Promise<void> {
    const object = this.#d.objects.get(key);
    const { namespace, name } = r.destination;
    if (object === undefined) return;
    const conditions = readOwnedStatus(object.status).conditions ?? [];
    const stored = conditions.find((c) => c.type === "Delivering");
    const plural = logForwardingDestinationNames.plural;
    // Counters alone need no guard: nobody else writes status.delivery.
    if (stored?.status === health.status && stored.reason === health.reason && stored.message === health.message) return void (await this.#d.gateway.patchStatus(plural, namespace, name, { delivery }));
    const delivering = nextCondition(conditions, "Delivering", health.status, health.reason, health.message, object.metadata.generation ?? 0, now);
    const others = conditions.filter((c) => c.type !== "Delivering");
    await this.#d.gateway.patchStatus(plural, namespace, name, { delivery, conditions: [...others, delivering] }, object.metadata.resourceVersion);
  }

  /** `dead-lettered seq <n>: <reason>` of the latest dead letter, read from the table when the total moved. */
  async #deadLetterError(r: Running, total: number): Promise<string | undefined> {
    if (total === 0 || r.deadLetter.total === total) return r.deadLetter.error;
    const latest = await latestDeadLetter(this.#d.pool, r.destination.uid);
    r.deadLetter = { total, error: latest && `dead-lettered seq ${latest.seq}: ${latest.reason}`, reason: latest?.reason };
    return r.deadLetter.error;
  }
}
