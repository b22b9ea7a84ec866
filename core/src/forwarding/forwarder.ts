import type { Pool } from "../db/pool.ts";
import type { StoredEvent } from "../events/model.ts";
import type { Logger } from "../log.ts";
import { backoffMs, classifyError } from "./classify.ts";
import { commitProgress, CursorMovedError, ensureCursor, readAfter, receivedAtOf, recordFailure, type ForwardFilter } from "./store.ts";
import type { EventSender, SendOutcome } from "./types.ts";

export interface DeliveryTuning {
  batchSize: number;
  batchBytes: number;
  maxBackoffMs: number;
  onPermanentError: "deadLetter" | "pause";
}

/** running: delivering or idle; backoff: waiting to retry; paused: a rejected event under onPermanentError=pause;
 * gone: the destination said it will never accept again (HTTP 410); stopped: not running. */
export type ForwarderState = "running" | "backoff" | "paused" | "gone" | "stopped";

export interface ForwarderStats {
  state: ForwarderState;
  cursorSeq: number;
  delivered: number;
  failed: number;
  deadLettered: number;
  lastDeliveredAt: string | null;
  lastError: string | null;
  lagEvents: number;
  lagSeconds: number;
}

export interface ForwarderOptions {
  pool: Pool;
  uid: string;
  tenant: string;
  /** namespace/name, for logs and the cursor table. */
  resource: string;
  filter: ForwardFilter;
  sender: EventSender;
  tuning: DeliveryTuning;
  log: Logger;
  /** Polling fallback for missed notifications. */
  pollIntervalMs?: number;
  /** Called after every delivery step with fresh totals (metrics). */
  onProgress?: (stats: ForwarderStats) => void;
  /** The replica holding the cursor (acquireCursor): commits fail, and the forwarder stops, once it no longer does. */
  owner?: string | undefined;
}

/** What happened to a chunk: how many of its leading events are done, and what to do next. */
interface ChunkResult {
  done: number;
  deadLetters: { seq: number; eventId: string; reason: string }[];
  delivered: number;
  next: "continue" | { retryAfterMs?: number; error: string } | "pause" | "gone";
  error?: string;
}

/**
 * Delivers one destination's events in seq order, at least once. The cursor advances only after the
 * destination acknowledged (or an event was dead-lettered), so a restart or a new leader resumes from it.
 */
export class Forwarder {
  readonly #o: ForwarderOptions;
  readonly #abort = new AbortController();
  #wake: (() => void) | undefined;
  /** A wake-up that came while a round was running: the next idle sleep returns at once. */
  #wokenWhileBusy = false;
  #loop: Promise<void> | undefined;
  #attempt = 0;
  /** The tenant's head as the last round read it. */
  #head = 0;
  #stats: ForwarderStats = { state: "stopped", cursorSeq: 0, delivered: 0, failed: 0, deadLettered: 0, lastDeliveredAt: null, lastError: null, lagEvents: 0, lagSeconds: 0 };

  constructor(o: ForwarderOptions) {
    this.#o = o;
  }

  get stats(): ForwarderStats {
    return { ...this.#stats };
  }

  start(): void {
    this.#stats.state = "running";
    this.#loop = this.#run().catch((err: unknown) => {
      this.#stats.state = "stopped";
      this.#stats.lastError = (err as Error).message;
      if (!this.#abort.signal.aborted) this.#o.log.error("forwarder stopped", { resource: this.#o.resource, err });
    });
  }

  /** New events were appended for this tenant. */
  wake(): void {
    if (this.#idle) this.#wake?.();
    else this.#wokenWhileBusy = true;
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    this.#wake?.();
    await this.#loop;
    this.#stats.state = "stopped";
    await this.#o.sender.close();
  }

  #idle = false;

  /**
   * Waits `ms`, or less: stop() always ends the wait; with `wakeable` (caught up, waiting for events) so does
   * wake(), including one that arrived during the round. A backoff is not cut short by new events.
   */
  #sleep(ms: number, wakeable: boolean): Promise<void> {
    if (this.#abort.signal.aborted) return Promise.resolve();
    if (wakeable && this.#wokenWhileBusy) {
      this.#wokenWhileBusy = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        this.#idle = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
      this.#idle = wakeable;
    });
  }

  async #run(): Promise<void> {
    const { pool, uid, tenant, resource } = this.#o;
    const state = await ensureCursor(pool, uid, tenant, resource);
    Object.assign(this.#stats, { cursorSeq: state.cursorSeq, delivered: state.delivered, failed: state.failedAttempts, deadLettered: state.deadLettered, lastDeliveredAt: state.lastDeliveredAt, lastError: state.lastError });
    while (!this.#abort.signal.aborted) {
      const step = await this.#step();
      await this.#refreshLag();
      this.#o.onProgress?.(this.stats);
      if (step === "idle") await this.#sleep(this.#o.pollIntervalMs ?? 5000, true);
      else if (step === "paused" || step === "gone") return;
      else if (typeof step === "number") await this.#sleep(step, false);
    }
  }

  /** One read-and-deliver round: "idle" when caught up, "more" to go on at once, a number to back off. */
  async #step(): Promise<"idle" | "more" | "paused" | "gone" | number> {
    const { pool, tenant, filter, tuning } = this.#o;
    const from = this.#stats.cursorSeq;
    const { events, scannedThrough, head } = await readAfter(pool, tenant, from, filter, tuning.batchSize);
    this.#head = head;
    let cursor = from;
    for (const chunk of this.#chunks(events)) {
      const r = await this.#deliver(chunk);
      const reached = r.done > 0 ? chunk[r.done - 1]!.seq : cursor;
      if (reached > cursor || r.deadLetters.length) await this.#commit(cursor, reached, r.delivered, r.deadLetters);
      cursor = reached;
      if (r.next === "continue") continue;
      if (r.next === "pause") return this.#halt("paused", r.error ?? "");
      if (r.next === "gone") return this.#halt("gone", r.error ?? "");
      // A send cut short by stop() is not a delivery failure.
      if (this.#abort.signal.aborted) return "idle";
      return this.#fail(r.next.error, r.next.retryAfterMs);
    }
    if (scannedThrough > cursor) await this.#commit(cursor, scannedThrough, 0, []);
    this.#attempt = 0;
    this.#stats.state = "running";
    return events.length === 0 ? "idle" : "more";
  }

  async #commit(fromSeq: number, toSeq: number, delivered: number, deadLetters: ChunkResult["deadLetters"]): Promise<void> {
    try {
      await commitProgress(this.#o.pool, this.#o.uid, this.#o.tenant, { fromSeq, toSeq, delivered, deadLetters, owner: this.#o.owner });
    } catch (err) {
      if (err instanceof CursorMovedError) this.#abort.abort();
      throw err;
    }
    this.#stats.cursorSeq = toSeq;
    this.#stats.delivered += delivered;
    this.#stats.deadLettered += deadLetters.length;
    if (delivered > 0) this.#stats.lastDeliveredAt = new Date().toISOString();
  }

  async #fail(error: string, retryAfterMs?: number): Promise<number> {
    this.#stats.failed += 1;
    this.#stats.lastError = error;
    this.#stats.state = "backoff";
    await recordFailure(this.#o.pool, this.#o.uid, error);
    return backoffMs(this.#attempt++, this.#o.tuning.maxBackoffMs, retryAfterMs);
  }

  async #halt(state: "paused" | "gone", error: string): Promise<"paused" | "gone"> {
    this.#stats.state = state;
    this.#stats.lastError = error;
    await recordFailure(this.#o.pool, this.#o.uid, error);
    this.#o.log.warn(`forwarding ${state}`, { resource: this.#o.resource, error });
    return state;
  }

  /** Splits events into chunks within the protocol's and the spec's limits. */
  *#chunks(events: StoredEvent[]): Generator<StoredEvent[]> {
    const { sender, tuning } = this.#o;
    const maxEvents = Math.min(sender.limits.maxEvents, tuning.batchSize);
    const maxBytes = Math.min(sender.limits.maxBytes, tuning.batchBytes);
    let chunk: StoredEvent[] = [];
    let bytes = 0;
    for (const e of events) {
      const size = sender.encodedSize(e);
      if (chunk.length > 0 && (chunk.length >= maxEvents || bytes + size > maxBytes)) {
        yield chunk;
        chunk = [];
        bytes = 0;
      }
      chunk.push(e);
      bytes += size;
    }
    if (chunk.length) yield chunk;
  }

  /**
   * Sends a chunk. A permanent or too-large rejection of a whole request is bisected until the offending
   * event is alone, so one bad event cannot hold back the others.
   */
  async #deliver(chunk: StoredEvent[]): Promise<ChunkResult> {
    let outcome: SendOutcome;
    try {
      outcome = await this.#o.sender.send(chunk, this.#abort.signal);
    } catch (raw) {
      const err = classifyError(raw);
      if (err.kind === "gone") return { done: 0, delivered: 0, deadLetters: [], next: "gone", error: `the destination answered that it is gone (${err.message}); delivery stopped until the resource changes` };
      if (err.kind === "retryable" || this.#abort.signal.aborted) return { done: 0, delivered: 0, deadLetters: [], next: { error: err.message, retryAfterMs: err.retryAfterMs } };
      if (chunk.length === 1) return this.#reject(chunk[0]!, err.message);
      return this.#bisect(chunk);
    }
    return this.#apply(chunk, outcome);
  }

  async #bisect(chunk: StoredEvent[]): Promise<ChunkResult> {
    const half = Math.ceil(chunk.length / 2);
    const left = await this.#deliver(chunk.slice(0, half));
    if (left.next !== "continue") return left;
    const right = await this.#deliver(chunk.slice(half));
    return { done: left.done + right.done, delivered: left.delivered + right.delivered, deadLetters: [...left.deadLetters, ...right.deadLetters], next: right.next, error: right.error };
  }

  #reject(e: StoredEvent, reason: string): ChunkResult {
    if (this.#o.tuning.onPermanentError === "pause") return { done: 0, delivered: 0, deadLetters: [], next: "pause", error: `seq ${e.seq} rejected: ${reason}` };
    return { done: 1, delivered: 0, deadLetters: [{ seq: e.seq, eventId: e.id, reason }], next: "continue" };
  }

  /** Per-event verdicts: the done prefix runs up to the first event to retry (or to pause on). */
  #apply(chunk: StoredEvent[], outcome: SendOutcome): ChunkResult {
    const result: ChunkResult = { done: 0, delivered: 0, deadLetters: [], next: "continue" };
    for (const [i, item] of outcome.items.entries()) {
      const e = chunk[i]!;
      if (item.status === "delivered") result.delivered += 1;
      else if (item.status === "rejected") {
        const r = this.#reject(e, item.reason);
        if (r.next === "pause") return { ...result, next: "pause", error: r.error };
        result.deadLetters.push(...r.deadLetters);
      } else {
        return { ...result, next: { error: `seq ${e.seq}: ${item.reason}`, retryAfterMs: outcome.retryAfterMs } };
      }
      result.done = i + 1;
    }
    if (outcome.items.length < chunk.length) return { ...result, next: { error: "destination acknowledged only part of the batch", retryAfterMs: outcome.retryAfterMs } };
    return result;
  }

  /**
   * Lag behind the head the round read: in events, and in seconds since the oldest undelivered event arrived
   * (looked up only when there is lag, so a caught-up forwarder asks nothing).
   */
  async #refreshLag(): Promise<void> {
    const events = Math.max(0, this.#head - this.#stats.cursorSeq);
    let seconds = 0;
    if (events > 0) {
      const oldest = await receivedAtOf(this.#o.pool, this.#o.tenant, this.#stats.cursorSeq + 1).catch(() => undefined);
      seconds = oldest ? Math.max(0, (Date.now() - oldest.getTime()) / 1000) : 0;
    }
    Object.assign(this.#stats, { lagEvents: events, lagSeconds: seconds });
  }
}
