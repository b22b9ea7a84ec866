import { checkLink, genesisHash, type ChainFault, type ChainHead } from "../events/chain.ts";
import type { StoredEvent } from "../events/model.ts";

export type VerifyFailureReason = ChainFault["kind"] | "checkpoint_mismatch" | "truncated" | "head_mismatch" | "checkpoint_signature_invalid" | "inclusion_proof_invalid" | "fork" | "consistency_proof_invalid" | "retention_boundary_invalid";

export interface VerifyFailure {
  seq: number;
  reason: VerifyFailureReason;
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  checked: number;
  headSeq: number;
  headHash: string;
  /** Missing seq ranges, inclusive, in order. */
  missing: { from: number; to: number }[];
  checkpointsMatched: number;
  failure?: VerifyFailure;
}

/**
 * An event whose stated hash was already recomputed from its content and found equal (an export line read by
 * export-line.ts): the walk checks its links only. A class, so that no parsed JSON can pass for one.
 */
export class HashCheckedEvent {
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
  readonly tenant: string;
  readonly receivedAt: string;
  /** Its Merkle leaf hash (Latin-1, leafHashBinary of `hash`), computed from the digest when the line was checked. */
  readonly leaf: string;

  constructor(seq: number, prevHash: string, hash: string, tenant: string, receivedAt: string, leaf: string) {
    this.seq = seq;
    this.prevHash = prevHash;
    this.hash = hash;
    this.tenant = tenant;
    this.receivedAt = receivedAt;
    this.leaf = leaf;
  }
}

/** checkLink, without hashing an event whose hash is already checked (the faults and messages are checkLink's). */
function linkFault(previous: ChainHead, e: StoredEvent | HashCheckedEvent): ChainFault | undefined {
  if (!(e instanceof HashCheckedEvent)) return checkLink(previous, e);
  if (e.seq !== previous.seq + 1) return { seq: previous.seq + 1, kind: "gap", message: `expected seq ${previous.seq + 1}, found ${e.seq}` };
  if (e.prevHash !== previous.hash) {
    return { seq: e.seq, kind: "broken_link", message: `prevHash ${e.prevHash} does not match the hash of seq ${previous.seq} (${previous.hash})` };
  }
  return undefined;
}

/**
 * Walks events in seq order, recomputing each hash and link, and compares with signed checkpoints (seq → hash).
 * A gap is recorded and the walk continues from the next event's own prevHash, so every missing range is
 * reported; the first fault of any kind is the failure.
 */
export class ChainVerifier {
  #head: ChainHead;
  #checked = 0;
  #failure: VerifyFailure | undefined;
  readonly #missing: { from: number; to: number }[] = [];
  readonly #checkpoints: ReadonlyMap<number, string>;
  #matched = 0;
  readonly #gapsAreFailures: boolean;

  /**
   * `start` is the head before the first event to be pushed (genesis for a walk from seq 1). Without
   * `gapsAreFailures` (a filtered export) gaps are only listed as missing.
   */
  constructor(checkpoints: ReadonlyMap<number, string> = new Map(), start: ChainHead = { seq: 0, hash: genesisHash }, gapsAreFailures = true) {
    this.#head = start;
    this.#checkpoints = checkpoints;
    this.#gapsAreFailures = gapsAreFailures;
  }

  push(e: StoredEvent | HashCheckedEvent): void {
    this.#checked += 1;
    let fault = linkFault(this.#head, e);
    if (fault?.kind === "gap" && e.seq > this.#head.seq + 1) {
      this.#missing.push({ from: this.#head.seq + 1, to: e.seq - 1 });
      if (this.#gapsAreFailures) this.#fail({ seq: fault.seq, reason: "gap", message: `events ${this.#head.seq + 1}..${e.seq - 1} are missing` });
      fault = linkFault({ seq: e.seq - 1, hash: e.prevHash }, e);
    }
    if (fault) this.#fail({ seq: fault.seq, reason: fault.kind, message: fault.message });
    const signed = this.#checkpoints.get(e.seq);
    if (signed !== undefined) {
      if (signed === e.hash) this.#matched += 1;
      else this.#fail({ seq: e.seq, reason: "checkpoint_mismatch", message: `signed checkpoint says seq ${e.seq} has hash ${signed}, the chain has ${e.hash}` });
    }
    if (e.seq > this.#head.seq) this.#head = { seq: e.seq, hash: e.hash };
  }

  /** Records a fault found outside the walk (e.g. a bad checkpoint signature). */
  fail(f: VerifyFailure): void {
    this.#fail(f);
  }

  #fail(f: VerifyFailure): void {
    this.#failure ??= f;
  }

  /**
   * Finishes the walk. With `complete` the walk claims to reach the chain's end, so a signed checkpoint past
   * the last event proves a truncated tail, and `expectedHead` (the stored chain head) must match.
   */
  finish(opts: { complete: boolean; expectedHead?: ChainHead }): VerifyResult {
    if (opts.complete) {
      const beyond = [...this.#checkpoints.keys()].filter((s) => s > this.#head.seq).sort((a, b) => b - a)[0];
      if (beyond !== undefined) {
        this.#fail({ seq: this.#head.seq + 1, reason: "truncated", message: `a signed checkpoint covers seq ${beyond}, but the chain ends at seq ${this.#head.seq}` });
      }
      const h = opts.expectedHead;
      if (h && (h.seq !== this.#head.seq || h.hash !== this.#head.hash)) {
        this.#fail({ seq: Math.min(h.seq, this.#head.seq) + 1, reason: "head_mismatch", message: `the stored chain head is seq ${h.seq} (${h.hash}) but the events end at seq ${this.#head.seq} (${this.#head.hash})` });
      }
    }
    return {
      ok: this.#failure === undefined,
      checked: this.#checked,
      headSeq: this.#head.seq,
      headHash: this.#head.hash,
      missing: this.#missing,
      checkpointsMatched: this.#matched,
      ...(this.#failure ? { failure: this.#failure } : {}),
    };
  }
}
