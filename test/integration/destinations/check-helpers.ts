import type { CheckResult } from "../../../core/src/checks/check-result.ts";
import { logForwardingDestinationSpecSchema, type LogForwardingDestinationSpecInput } from "../../../core/src/crd/log-forwarding-destination.ts";
import { recordingStorageSpecSchema, type RecordingStorageSpecInput } from "../../../core/src/crd/recording-storage.ts";
import { createDestination } from "../../../core/src/destinations/registry.ts";
import type { EgressPolicy } from "../../../core/src/net/egress.ts";
import { secretSourceFrom } from "../../../core/src/secrets.ts";
import { recordingStorageTester } from "../../../core/src/storage/s3-tester.ts";

/** The local servers listen on loopback, which production refuses; nothing else is relaxed. */
export const testEgress: EgressPolicy = { allowLinkLocal: false, allowLoopback: true, allowCloudMetadata: false };

export type Secrets = Record<string, Record<string, string | Buffer>>;

/** Parses the spec exactly as the operator will (defaults included), builds the destination, checks it once. */
export async function checkDestination(spec: LogForwardingDestinationSpecInput, secrets: Secrets, egress: EgressPolicy = testEgress): Promise<CheckResult> {
  const destination = createDestination(logForwardingDestinationSpecSchema.parse(spec), { secrets: secretSourceFrom(secrets), egress });
  try {
    return await destination.check();
  } finally {
    await destination.close();
  }
}

export async function checkStorage(spec: RecordingStorageSpecInput, secrets: Secrets, egress: EgressPolicy = testEgress): Promise<CheckResult> {
  const tester = recordingStorageTester(recordingStorageSpecSchema.parse(spec), { secrets: secretSourceFrom(secrets), egress });
  try {
    return await tester.check();
  } finally {
    await tester.close();
  }
}

/** A Standard Webhooks secret of 32 random-looking bytes. */
export const webhookSecret = `whsec_${Buffer.alloc(32, "trailkeeper-test-secret").toString("base64")}`;
