import { createHash } from "node:crypto";
import { GetObjectCommand, GetObjectLockConfigurationCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { RecordingStorageSpec } from "../crd/recording-storage.ts";
import { advancePublished, checkpointsAfter, publishedSeq } from "../db/checkpoint-publications.ts";
import type { StoredCheckpoint } from "../db/checkpoints.ts";
import type { Pool } from "../db/pool.ts";
import { checkpointObjectKey } from "../integrity/witness.ts";
import { keyUnderPrefix } from "./s3-client.ts";

/**
 * Witnessing in the tenant's recording-storage bucket (docs/integrity.md §7): each signed checkpoint note becomes
 * a write-once object, locked for a retention period when the bucket has S3 Object Lock enabled, so that whoever
 * controls the database cannot take back what the log once signed.
 */

export type RetentionMode = "GOVERNANCE" | "COMPLIANCE";

export interface CheckpointRetention {
  mode: RetentionMode;
  days: number;
}

export interface BucketTarget {
  s3: S3Client;
  spec: RecordingStorageSpec;
  /** The cursor's key: `s3:<RecordingStorage uid>`. */
  target: string;
  /** `namespace/name`, for people reading the cursor table. */
  resource: string;
  tenant: string;
  retention: CheckpointRetention;
}

export interface PublishRound {
  /** Objects written. */
  written: number;
  /** Objects that were already there with the same bytes (an earlier round wrote them but did not record it). */
  present: number;
  /** Keys already holding other bytes: left as they are (never overwritten) and reported. */
  conflicts: string[];
  objectLock: boolean;
}

interface S3ErrorLike {
  name?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

const status = (err: unknown) => (err as S3ErrorLike).$metadata?.httpStatusCode;
const code = (err: unknown) => (err as S3ErrorLike).Code ?? (err as S3ErrorLike).name;

/**
 * Whether the bucket has Object Lock enabled (GetObjectLockConfiguration). A bucket without a configuration
 * answers 404 ObjectLockConfigurationNotFoundError; other errors propagate, so a round never writes unlocked
 * objects into a bucket whose lock state it could not learn.
 */
export async function bucketHasObjectLock(s3: S3Client, bucket: string, signal?: AbortSignal): Promise<boolean> {
  try {
    const res = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }), { abortSignal: signal });
    return res.ObjectLockConfiguration?.ObjectLockEnabled === "Enabled";
  } catch (err) {
    if (code(err) === "ObjectLockConfigurationNotFoundError") return false;
    throw err;
  }
}

/** The object a checkpoint is published as: its note, under `<prefix>/checkpoints/<tenant>/`. */
export const checkpointKey = (spec: RecordingStorageSpec, c: StoredCheckpoint): string => keyUnderPrefix(spec.prefix, checkpointObjectKey("", c));

/**
 * Writes one note unless its key exists (`If-None-Match: *`: S3's conditional write, so nothing is ever
 * overwritten), with Object Lock retention when `retainUntil` is set. Returns what happened.
 */
async function putNote(t: BucketTarget, key: string, note: string, retainUntil: Date | undefined, signal?: AbortSignal): Promise<"written" | "present" | "conflict"> {
  const body = Buffer.from(note, "utf8");
  const sse = t.spec.serverSideEncryption;
  try {
    await t.s3.send(new PutObjectCommand({
      Bucket: t.spec.bucket, Key: key, Body: body, ContentType: "text/plain; charset=utf-8", IfNoneMatch: "*",
      // S3 requires Content-MD5 (or a checksum) on a PutObject carrying Object Lock parameters.
      ContentMD5: createHash("md5").update(body).digest("base64"),
      ...(retainUntil === undefined ? {} : { ObjectLockMode: t.retention.mode, ObjectLockRetainUntilDate: retainUntil }),
      ...(sse === undefined ? {} : { ServerSideEncryption: sse.algorithm, ...(sse.kmsKeyId === undefined ? {} : { SSEKMSKeyId: sse.kmsKeyId }) }),
    }), { abortSignal: signal });
    return "written";
  } catch (err) {
    if (status(err) !== 412) throw err;
  }
  const existing = await t.s3.send(new GetObjectCommand({ Bucket: t.spec.bucket, Key: key }), { abortSignal: signal });
  const bytes = Buffer.from((await existing.Body?.transformToByteArray()) ?? new Uint8Array());
  return bytes.equals(body) ? "present" : "conflict";
}

/**
 * Publishes the tenant's checkpoints signed since the target's durable cursor, oldest first, moving the cursor
 * after each one: every checkpoint is published at least once, across restarts and leader changes. At most
 * `limit` per round.
 */
export async function publishCheckpointsToBucket(pool: Pool, t: BucketTarget, opts: { limit?: number; now?: () => Date; signal?: AbortSignal } = {}): Promise<PublishRound> {
  const after = await publishedSeq(pool, t.target, t.tenant);
  const pending = await checkpointsAfter(pool, t.tenant, after, opts.limit ?? 100);
  const round: PublishRound = { written: 0, present: 0, conflicts: [], objectLock: false };
  if (pending.length === 0) return round;
  round.objectLock = await bucketHasObjectLock(t.s3, t.spec.bucket, opts.signal);
  for (const c of pending) {
    const key = checkpointKey(t.spec, c);
    const retainUntil = round.objectLock ? new Date((opts.now ?? (() => new Date()))().getTime() + t.retention.days * 86_400_000) : undefined;
    const outcome = await putNote(t, key, c.note, retainUntil, opts.signal);
    if (outcome === "conflict") round.conflicts.push(key);
    else round[outcome] += 1;
    const error = outcome === "conflict" ? `${key} already holds another note; it was left as it is` : undefined;
    await advancePublished(pool, { target: t.target, tenant: t.tenant, resource: t.resource, seq: c.seq, ...(error ? { error } : {}) });
  }
  return round;
}
