import { parseDuration } from "@trailkeeper/core/crd/duration.ts";
import { recordingStorageNames, recordingStorageSpecSchema, type RecordingStorageSpec } from "@trailkeeper/core/crd/recording-storage.ts";
import { secretRefsOfRecordingStorage } from "@trailkeeper/core/crd/secret-refs.ts";
import { recordingStorageTester } from "@trailkeeper/core/storage/s3-tester.ts";
import { parseWith, type CheckedKind } from "./checked-kind.ts";

/** RecordingStorage: always enabled, tested by the S3 probe (HeadBucket, put, get, delete). */
export const recordingStorageKind: CheckedKind<RecordingStorageSpec> = {
  kind: recordingStorageNames.kind,
  resource: recordingStorageNames.plural,
  parseSpec: (raw) => parseWith(recordingStorageSpecSchema, raw),
  secretRefs: (spec) => secretRefsOfRecordingStorage(spec),
  enabled: () => true,
  checkIntervalMs: (spec) => parseDuration(spec.checkInterval),
  checkType: () => "s3",
  statusType: () => undefined,
  tester: (spec, deps) => recordingStorageTester(spec, deps),
};
