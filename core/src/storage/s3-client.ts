import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { S3Client } from "@aws-sdk/client-s3";
import type { RecordingStorageSpec } from "../crd/recording-storage.ts";
import { guardedLookup, type EgressPolicy } from "../net/egress.ts";
import { allowedHttpUrl } from "../net/http-endpoint.ts";
import { resolveTls, tlsConnectOptions } from "../net/tls.ts";
import { requireSecretText, type SecretSource } from "../secrets.ts";

export interface S3Deps {
  secrets: SecretSource;
  egress: EgressPolicy;
}

/**
 * An S3 client for a RecordingStorage: explicit credentials only (never the operator's own ambient identity,
 * which would let a tenant use the operator's permissions), the egress guard on every connection, and checksum
 * settings S3-compatible stores accept (protocols.md §6).
 */
export function createS3Client(spec: RecordingStorageSpec, deps: S3Deps, options: { maxAttempts?: number } = {}): S3Client {
  const creds = spec.credentialsSecretRef;
  const accessKeyId = requireSecretText(deps.secrets, { name: creds.name, key: creds.accessKeyIdKey });
  const secretAccessKey = requireSecretText(deps.secrets, { name: creds.name, key: creds.secretAccessKeyKey });
  if (spec.endpoint !== undefined) allowedHttpUrl(spec.endpoint, spec.allowInsecureHttp, deps.egress);
  const lookup = guardedLookup(deps.egress);
  const tls = resolveTls(spec.tls, deps.secrets);
  return new S3Client({
    region: spec.region,
    ...(spec.endpoint === undefined ? { followRegionRedirects: true } : { endpoint: spec.endpoint }),
    forcePathStyle: spec.forcePathStyle,
    credentials: { accessKeyId, secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: {
      httpAgent: new HttpAgent({ keepAlive: true, lookup } as ConstructorParameters<typeof HttpAgent>[0]),
      httpsAgent: new HttpsAgent({ keepAlive: true, lookup, ...tlsConnectOptions(tls) } as ConstructorParameters<typeof HttpsAgent>[0]),
    },
  });
}

/** Key under the configured prefix; a "/" is inserted when the prefix does not end with one. */
export function keyUnderPrefix(prefix: string, key: string): string {
  if (prefix === "") return key;
  return prefix.endsWith("/") ? `${prefix}${key}` : `${prefix}/${key}`;
}
