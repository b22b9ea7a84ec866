import { describe, expect, it } from "vitest";
import { recordingStorageSpecSchema as schema } from "./recording-storage.ts";
import { secretRefsOfRecordingStorage } from "./secret-refs.ts";

const base = { bucket: "recordings", credentialsSecretRef: { name: "s3" } };

function errors(spec: unknown): string[] {
  const r = schema.safeParse(spec);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}

describe("RecordingStorage spec", () => {
  it("fills defaults", () => {
    expect(schema.parse(base)).toMatchObject({
      region: "us-east-1",
      forcePathStyle: false,
      prefix: "",
      checkInterval: "5m",
      credentialsSecretRef: { name: "s3", accessKeyIdKey: "AWS_ACCESS_KEY_ID", secretAccessKeyKey: "AWS_SECRET_ACCESS_KEY" },
    });
  });

  it("lists both keys of the credentials Secret and TLS references", () => {
    const spec = schema.parse({ ...base, endpoint: "https://minio:9000", tls: { caSecretRef: { name: "ca", key: "ca.crt" } } });
    expect(secretRefsOfRecordingStorage(spec)).toEqual([
      { name: "s3", key: "AWS_ACCESS_KEY_ID" },
      { name: "s3", key: "AWS_SECRET_ACCESS_KEY" },
      { name: "ca", key: "ca.crt" },
    ]);
  });

  it.each(["ab", "Recordings", "-rec", "rec_ordings", "a".repeat(64)])("rejects the bucket name %s", (bucket) => {
    expect(errors({ ...base, bucket }).length).toBeGreaterThan(0);
  });

  it("requires https endpoints unless allowed", () => {
    expect(errors({ ...base, endpoint: "http://minio:9000" })).toEqual(["endpoint: endpoint must use https:// (set allowInsecureHttp: true to allow plain http)"]);
    expect(errors({ ...base, endpoint: "http://minio:9000", allowInsecureHttp: true })).toEqual([]);
  });

  it("accepts kmsKeyId only with aws:kms", () => {
    expect(errors({ ...base, serverSideEncryption: { algorithm: "aws:kms", kmsKeyId: "alias/rec" } })).toEqual([]);
    expect(errors({ ...base, serverSideEncryption: { algorithm: "AES256" } })).toEqual([]);
    expect(errors({ ...base, serverSideEncryption: { algorithm: "AES256", kmsKeyId: "k" } })).toEqual(["serverSideEncryption.kmsKeyId: kmsKeyId applies only to algorithm aws:kms"]);
    expect(errors({ ...base, serverSideEncryption: { algorithm: "SSE-C" } }).length).toBe(1);
  });

  it("rejects a prefix starting with a slash", () => {
    expect(errors({ ...base, prefix: "/recordings" }).length).toBe(1);
    expect(errors({ ...base, prefix: "tenants/acme/recordings" })).toEqual([]);
  });
});
