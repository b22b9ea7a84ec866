import type { Checkpoint } from "../integrity/checkpoint-note.ts";

/**
 * A signed checkpoint as forwarded to a log-forwarding destination (witnessing, docs/integrity.md §7): a record
 * type of its own, which each kind marks in its native way (webhook `type`, HEC sourcetype, syslog MSGID, a
 * Datadog and Elasticsearch field) so that the SIEM keeps and finds it apart from events.
 */
export const checkpointRecordType = "trailkeeper.checkpoint";

export interface CheckpointRecord {
  tenant: string;
  seq: number;
  /** Chain head hash, hex. */
  hash: string;
  /** Merkle root, hex; absent in chain-only checkpoints. */
  root?: string;
  time: string;
  /** The signed note, the part a verifier needs (`trailkeeper verify --witnessed`). */
  note: string;
}

export const checkpointRecordOf = (c: Checkpoint & { note: string }): CheckpointRecord => ({
  tenant: c.tenant, seq: c.seq, hash: c.hash, ...(c.root === undefined ? {} : { root: c.root }), time: c.time, note: c.note,
});

/** A stable id per destination and checkpoint, so that a resend is recognisably the same record. */
export const checkpointRecordId = (c: CheckpointRecord) => `checkpoint-${c.tenant}-${c.seq}`;
