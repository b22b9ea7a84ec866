import { createHash } from "node:crypto";
import { canonicalEventJson } from "./canonical-event.ts";
import type { PendingEvent, StoredEvent } from "./model.ts";

/** prevHash of a tenant's first event. */
export const genesisHash = "0".repeat(64);

/** SHA-256, lowercase hex, over the RFC 8785 canonical JSON of the event without its `hash` field. */
export function eventHash(event: Omit<StoredEvent, "hash"> | StoredEvent): string {
  return createHash("sha256").update(canonicalEventJson(event), "utf8").digest("hex");
}

export interface ChainHead {
  seq: number;
  hash: string;
}

/** Places pending events after `head`, returning the stored events and the new head. */
export function extendChain(head: ChainHead, pending: readonly PendingEvent[]): { events: StoredEvent[]; head: ChainHead } {
  let { seq, hash } = head;
  const events = pending.map((p) => {
    seq += 1;
    const event = { ...p, seq, prevHash: hash, hash: "" };
    event.hash = hash = eventHash(event);
    return event;
  });
  return { events, head: { seq, hash } };
}

export type ChainFault =
  | { seq: number; kind: "hash_mismatch"; message: string }
  | { seq: number; kind: "broken_link"; message: string }
  | { seq: number; kind: "gap"; message: string }
  | { seq: number; kind: "tenant_mismatch"; message: string };

/**
 * Checks one event against its predecessor in a contiguous walk. `previous` is the head before `event`
 * (seq 0 and the genesis hash before the first event).
 */
export function checkLink(previous: ChainHead, event: StoredEvent): ChainFault | undefined {
  if (event.seq !== previous.seq + 1) {
    return { seq: previous.seq + 1, kind: "gap", message: `expected seq ${previous.seq + 1}, found ${event.seq}` };
  }
  const recomputed = eventHash(event);
  if (recomputed !== event.hash) {
    return { seq: event.seq, kind: "hash_mismatch", message: `stored hash ${event.hash} but content hashes to ${recomputed}` };
  }
  if (event.prevHash !== previous.hash) {
    return { seq: event.seq, kind: "broken_link", message: `prevHash ${event.prevHash} does not match the hash of seq ${previous.seq} (${previous.hash})` };
  }
  return undefined;
}
