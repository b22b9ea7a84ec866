import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import { parseDuration } from "../../../core/src/crd/duration.ts";
import { logForwardingDestinationSpecSchema, type LogForwardingDestinationSpecInput } from "../../../core/src/crd/log-forwarding-destination.ts";
import { createSender } from "../../../core/src/destinations/registry.ts";
import { appendToChain, createTenant } from "../../../core/src/db/event-store.ts";
import { inTransaction } from "../../../core/src/db/pool.ts";
import { eventHash } from "../../../core/src/events/chain.ts";
import { eventInputSchema, toPendingEvent, type EventInput, type StoredEvent } from "../../../core/src/events/model.ts";
import { Forwarder } from "../../../core/src/forwarding/forwarder.ts";
import { loadCursor, readAfter, rewindCursor, type CursorState } from "../../../core/src/forwarding/store.ts";
import { silentLogger } from "../../../core/src/log.ts";
import { secretSourceFrom } from "../../../core/src/secrets.ts";
import { bulkAppend } from "../../support/bulk.ts";
import type { TestDatabase } from "../../support/database.ts";
import { testEgress, type Secrets } from "../destinations/check-helpers.ts";

/**
 * A forwarder wired as the operator wires it — spec parsed with defaults, sender from `createSender`, tuning from
 * `spec.delivery` — for one fresh tenant, against a real Postgres and a local protocol server.
 */
export interface ForwardingRun {
  tenant: string;
  uid: string;
  forwarder: Forwarder;
  /** Appends `n` generated events and wakes the forwarder. */
  append(n: number): Promise<void>;
  /** Appends one event of the test's own and wakes the forwarder. */
  appendEvent(input: EventInput): Promise<void>;
  /** Every event of the tenant, as stored. */
  stored(): Promise<StoredEvent[]>;
  cursor(): Promise<CursorState>;
  deadLetters(): Promise<{ seq: number; reason: string }[]>;
  /** Stops the forwarder and starts a new one for the same destination (a restart), optionally replaying after `fromSeq`. */
  restart(fromSeq?: number): Promise<void>;
  stop(): Promise<void>;
}

export const forwardingHostname = "trailkeeper-test";

let tenants = 0;

export async function startForwarding(db: TestDatabase, spec: LogForwardingDestinationSpecInput, secrets: Secrets): Promise<ForwardingRun> {
  const tenant = `fwd${++tenants}`;
  await inTransaction(db.pool, (c) => createTenant(c, tenant));
  const parsed = logForwardingDestinationSpecSchema.parse(spec);
  const uid = randomUUID();
  const { delivery } = parsed;
  const tuning = { batchSize: delivery.batchSize, batchBytes: delivery.batchBytes, maxBackoffMs: parseDuration(delivery.maxBackoff), onPermanentError: delivery.onPermanentError };
  const forwarderFor = () => {
    const sender = createSender(parsed, { secrets: secretSourceFrom(secrets), egress: testEgress, destinationUid: uid, hostname: forwardingHostname });
    return new Forwarder({ pool: db.pool, uid, tenant, resource: `ns/${tenant}`, filter: parsed.filter ?? {}, sender, tuning, log: silentLogger, pollIntervalMs: 100 });
  };
  let forwarder = forwarderFor();
  forwarder.start();
  await until(async () => (await loadCursor(db.pool, uid)) !== undefined);
  return {
    tenant,
    uid,
    get forwarder() {
      return forwarder;
    },
    async append(n) {
      await bulkAppend(db.pool, tenant, n);
      forwarder.wake();
    },
    async appendEvent(input) {
      await inTransaction(db.pool, (c) => appendToChain(c, tenant, [toPendingEvent(eventInputSchema.parse(input), tenant, randomUUID(), new Date())]));
      forwarder.wake();
    },
    stored: async () => (await readAfter(db.pool, tenant, 0, {}, 1_000_000)).events,
    cursor: async () => (await loadCursor(db.pool, uid))!,
    deadLetters: async () => (await db.pool.query<{ seq: number; reason: string }>("SELECT seq::int AS seq, reason FROM dead_letters WHERE destination_uid = $1 ORDER BY seq", [uid])).rows,
    async restart(fromSeq) {
      await forwarder.stop();
      if (fromSeq !== undefined) await rewindCursor(db.pool, uid, fromSeq);
      forwarder = forwarderFor();
      forwarder.start();
    },
    stop: () => forwarder.stop(),
  };
}

export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the condition");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** What a receiver can check with what it got: each event's hash recomputes, and each links to the one before. */
export function expectVerifiableChain(events: readonly StoredEvent[]): void {
  for (const [i, event] of events.entries()) {
    expect(eventHash(event), `hash of seq ${event.seq}`).toBe(event.hash);
    const previous = events[i - 1];
    if (previous !== undefined && previous.seq === event.seq - 1) expect(event.prevHash, `link of seq ${event.seq}`).toBe(previous.hash);
  }
}

export const seqs = (events: readonly { seq: number }[]): number[] => events.map((e) => e.seq);
export const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
