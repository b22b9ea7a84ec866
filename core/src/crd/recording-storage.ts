import { z } from "zod";
import {
  allowInsecureHttpField,
  checkIntervalField,
  conditionsSchema,
  httpsUnlessAllowed,
  httpUrlSchema,
  lastCheckSchema,
  observedGenerationField,
  secretDataKeySchema,
  secretNameSchema,
  timeoutField,
  tlsSchema,
} from "./common.ts";
import { withRules } from "./rules.ts";

export const s3CredentialsRefSchema = z
  .object({
    name: secretNameSchema.describe("Secret in the same namespace."),
    accessKeyIdKey: secretDataKeySchema.default("AWS_ACCESS_KEY_ID").describe("Key holding the access key id."),
    secretAccessKeyKey: secretDataKeySchema.default("AWS_SECRET_ACCESS_KEY").describe("Key holding the secret access key."),
  })
  .describe("Secret with the S3 access key pair.");

export const serverSideEncryptionSchema = withRules(
  z
    .object({
      algorithm: z.enum(["AES256", "aws:kms"]).describe("AES256 (SSE-S3) or aws:kms (SSE-KMS)."),
      kmsKeyId: z.string().min(1).max(2048).optional().describe("KMS key id or ARN for aws:kms; default: the account's aws/s3 key."),
    })
    .describe("Server-side encryption requested on every upload (and on the probe object)."),
  [
    {
      rule: "!has(self.kmsKeyId) || self.algorithm == 'aws:kms'",
      message: "kmsKeyId applies only to algorithm aws:kms",
      reason: "FieldValueForbidden",
      fieldPath: ".kmsKeyId",
      holds: (v) => v.kmsKeyId === undefined || v.algorithm === "aws:kms",
    },
  ],
);

export const recordingStorageSpecSchema = withRules(
  z
    .object({
      bucket: z
        .string()
        .min(3)
        .max(63)
        .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be an S3 bucket name")
        .describe("Bucket name."),
      region: z.string().min(1).max(32).regex(/^[a-z0-9-]+$/, "must be a region such as eu-west-1").default("us-east-1").describe("Bucket region; S3-compatible stores take a fixed value (e.g. auto for R2)."),
      endpoint: httpUrlSchema.optional().describe("Endpoint of an S3-compatible store; omit for AWS."),
      forcePathStyle: z.boolean().default(false).describe("Address buckets as https://host/bucket/key (most self-hosted stores need this)."),
      prefix: z
        .string()
        .max(512)
        .regex(/^([^/\s]\S*)?$/, "must not start with / or contain spaces")
        .default("")
        .describe("Key prefix for every object written, e.g. recordings/; a / is inserted if missing."),
      credentialsSecretRef: s3CredentialsRefSchema,
      serverSideEncryption: serverSideEncryptionSchema.optional(),
      tls: tlsSchema.optional(),
      allowInsecureHttp: allowInsecureHttpField,
      checkInterval: checkIntervalField,
      timeout: timeoutField,
    })
    .describe("S3 or S3-compatible bucket for session recordings."),
  [httpsUnlessAllowed("endpoint", true)],
);

export const recordingStorageStatusSchema = z.object({
  observedGeneration: observedGenerationField,
  conditions: conditionsSchema,
  lastCheck: lastCheckSchema.optional(),
});

export type RecordingStorageSpec = z.output<typeof recordingStorageSpecSchema>;
export type RecordingStorageSpecInput = z.input<typeof recordingStorageSpecSchema>;

export const recordingStorageNames = {
  kind: "RecordingStorage",
  listKind: "RecordingStorageList",
  plural: "recordingstorages",
  singular: "recordingstorage",
  shortNames: ["recstore"],
} as const;
