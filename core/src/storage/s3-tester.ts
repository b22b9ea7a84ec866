import { randomBytes, randomUUID } from "node:crypto";
import { DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { CheckFailure, succeeded, type CheckOutcome, type FailureReason } from "../checks/check-result.ts";
import { checkedTester, type Tester } from "../checks/checked-tester.ts";
import { parseDuration } from "../crd/duration.ts";
import type { RecordingStorageSpec } from "../crd/recording-storage.ts";
import { createS3Client, keyUnderPrefix, type S3Deps } from "./s3-client.ts";

export type S3Step = "HeadBucket" | "PutObject" | "GetObject" | "DeleteObject";

interface S3ErrorLike {
  name?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string> };
}

/**
 * The S3 error code, or undefined when the response had none: HEAD responses carry no body, and the SDK then
 * names the error after the status ("NotFound", "403", "Unknown") — protocols.md §6.
 */
function errorCode(err: S3ErrorLike): string | undefined {
  const name = err.Code ?? err.name;
  if (name === undefined || name === "NotFound" || name === "Unknown" || name === "UnknownError" || /^\d{3}$/.test(name)) return undefined;
  return name;
}

const codeReasons: Record<string, FailureReason> = {
  InvalidAccessKeyId: "InvalidCredentials",
  SignatureDoesNotMatch: "InvalidCredentials",
  InvalidToken: "InvalidCredentials",
  ExpiredToken: "InvalidCredentials",
  AccessDenied: "PermissionDenied",
  AllAccessDisabled: "PermissionDenied",
  NoSuchBucket: "NotFound",
  PermanentRedirect: "InvalidConfig",
  AuthorizationHeaderMalformed: "InvalidConfig",
  RequestTimeTooSkewed: "InvalidConfig",
  SlowDown: "RateLimited",
};

/** For responses without a code: what the status alone means. */
const statusReasons: Record<number, FailureReason> = { 301: "InvalidConfig", 400: "InvalidConfig", 403: "PermissionDenied", 404: "NotFound" };
const statusHints: Record<number, string> = {
  301: "; the bucket is in another region",
  400: "; usually the region is wrong for this bucket or endpoint",
  404: "; no such bucket at this endpoint (check bucket, endpoint and forcePathStyle)",
};

function reasonFor(code: string | undefined, status: number): FailureReason {
  const known = code === undefined ? statusReasons[status] : codeReasons[code];
  if (known !== undefined) return known;
  if (status >= 500) return "ServerError";
  if (status === 401 || status === 403) return "PermissionDenied";
  return "UnexpectedResponse";
}

/** Runs one step; an S3 error becomes a failure naming the step and code, anything else (network) propagates. */
async function step<T>(name: S3Step, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const e = err as S3ErrorLike;
    const status = e.$metadata?.httpStatusCode;
    if (status === undefined) throw err;
    const code = errorCode(e);
    const region = e.$response?.headers?.["x-amz-bucket-region"];
    const what = code === undefined ? `HTTP ${status}${statusHints[status] ?? ""}` : `${code} (HTTP ${status})`;
    throw new CheckFailure(reasonFor(code, status), `${name} failed: ${what}${region === undefined ? "" : ` (bucket region: ${region})`}`);
  }
}

/**
 * The probe sequence of least side effect: HeadBucket, then put, read back and delete one small object under
 * `<prefix>/_probe/`. A 403 on HeadBucket alone is inconclusive (a write-only key lacks s3:ListBucket), so the
 * probe continues and the write decides.
 */
export async function probeBucket(s3: S3Client, spec: RecordingStorageSpec, signal: AbortSignal): Promise<CheckOutcome> {
  const notes: string[] = [];
  try {
    await step("HeadBucket", () => s3.send(new HeadBucketCommand({ Bucket: spec.bucket }), { abortSignal: signal }));
  } catch (err) {
    if (!(err instanceof CheckFailure) || err.reason !== "PermissionDenied") throw err;
    notes.push("HeadBucket was denied (inconclusive: the key may lack s3:ListBucket)");
  }
  const key = keyUnderPrefix(spec.prefix, `_probe/trailkeeper-${randomUUID()}.txt`);
  const body = Buffer.from(`trailkeeper storage probe ${randomBytes(16).toString("hex")}\n`);
  const sse = spec.serverSideEncryption;
  await step("PutObject", () =>
    s3.send(
      new PutObjectCommand({
        Bucket: spec.bucket,
        Key: key,
        Body: body,
        ContentType: "text/plain",
        ...(sse === undefined ? {} : { ServerSideEncryption: sse.algorithm, ...(sse.kmsKeyId === undefined ? {} : { SSEKMSKeyId: sse.kmsKeyId }) }),
      }),
      { abortSignal: signal },
    ),
  );
  let readBack: Uint8Array;
  try {
    readBack = await step("GetObject", async () => {
      const res = await s3.send(new GetObjectCommand({ Bucket: spec.bucket, Key: key }), { abortSignal: signal });
      return (await res.Body?.transformToByteArray()) ?? new Uint8Array();
    });
  } catch (err) {
    await s3.send(new DeleteObjectCommand({ Bucket: spec.bucket, Key: key }), { abortSignal: signal }).catch(() => {});
    throw err;
  }
  if (!body.equals(Buffer.from(readBack))) throw new CheckFailure("DataMismatch", `GetObject returned ${readBack.length} bytes that differ from the ${body.length} written to ${key}`);
  let deleted = true;
  try {
    await step("DeleteObject", () => s3.send(new DeleteObjectCommand({ Bucket: spec.bucket, Key: key }), { abortSignal: signal }));
  } catch (err) {
    // Object Lock and deny-delete policies are legitimate for an audit bucket; the probe object then stays.
    if (!(err instanceof CheckFailure) || err.reason !== "PermissionDenied") throw err;
    deleted = false;
    notes.push(`${err.message}; probe object ${key} remains (expected on WORM buckets; expire _probe/ with a lifecycle rule)`);
  }
  const summary = `wrote${deleted ? ", read back and deleted" : " and read back"} ${key} in bucket ${spec.bucket}`;
  return succeeded([summary, ...notes].join("; "));
}

/** The connectivity tester for a RecordingStorage, wrapped like a destination's so the operator treats both alike. */
export function recordingStorageTester(spec: RecordingStorageSpec, deps: S3Deps): Tester {
  return checkedTester(() => {
    // One attempt: a check reports what happened now; the next interval is the retry.
    const s3 = createS3Client(spec, deps, { maxAttempts: 1 });
    return { check: (signal) => probeBucket(s3, spec, signal), close: async () => s3.destroy() };
  }, parseDuration(spec.timeout));
}
