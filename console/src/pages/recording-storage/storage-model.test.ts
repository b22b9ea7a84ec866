import { describe, expect, it } from "vitest";
import { buildStorageSpec, storageFields, storageSecretNameOf, storageValuesFromSpec, validateStorage } from "./storage-model.ts";

/** Every field set, custom Secret keys, and a field this console does not know. */
const full = {
  bucket: "recs", region: "eu-west-1", endpoint: "http://minio.example.com:9000", forcePathStyle: true, prefix: "sessions/",
  credentialsSecretRef: { name: "s3-keys", accessKeyIdKey: "id", secretAccessKeyKey: "secret" },
  serverSideEncryption: { algorithm: "aws:kms", kmsKeyId: "arn:aws:kms:eu-west-1:1:key/x" },
  tls: { caSecretRef: { name: "minio-ca", key: "ca.crt" }, insecureSkipVerify: true }, allowInsecureHttp: true, checkInterval: "10m", timeout: "30s",
  futureSetting: [1, 2],
};
const edit = (spec: Record<string, unknown>, change: Record<string, string | boolean> = {}) => buildStorageSpec({ ...storageValuesFromSpec(spec), ...change }, storageSecretNameOf(spec)!, spec);

describe("recording storage form model", () => {
  it("puts the key pair into the Secret and the rest into the spec", () => {
    const built = buildStorageSpec({ bucket: "recs", endpoint: "http://127.0.0.1:9000", forcePathStyle: true, allowInsecureHttp: true, _accessKeyId: "AKID", _secretAccessKey: "s3cr3t" }, "recs-credentials");
    expect(built.spec).toEqual({ bucket: "recs", endpoint: "http://127.0.0.1:9000", forcePathStyle: true, allowInsecureHttp: true, credentialsSecretRef: { name: "recs-credentials" } });
    expect(built.secrets).toEqual({ "recs-credentials": { AWS_ACCESS_KEY_ID: "AKID", AWS_SECRET_ACCESS_KEY: "s3cr3t" } });
    expect(validateStorage(built.spec)).toEqual({ fields: {}, general: [] });
  });

  it("reports the CRD's rules per field, hints from the schema", () => {
    const v = validateStorage(buildStorageSpec({ bucket: "A", endpoint: "http://minio:9000", prefix: "/x" }, "s").spec);
    expect(v.fields.bucket).toBeDefined();
    expect(v.fields.endpoint).toMatch(/https/);
    expect(v.fields.prefix).toMatch(/must not start with/);
    expect(storageFields.find((f) => f.id === "forcePathStyle")!.hint).toMatch(/host\/bucket\/key/);
  });

  it("gives a full spec back unchanged, and changes only the field edited", () => {
    expect(validateStorage(full)).toEqual({ fields: {}, general: [] });
    expect(edit(full)).toEqual({ spec: full, secrets: {} });
    expect(edit(full, { prefix: "archive/" }).spec).toEqual({ ...full, prefix: "archive/" });
    expect(edit(full, { "tls.insecureSkipVerify": false }).spec).toEqual({ ...full, tls: { caSecretRef: { name: "minio-ca", key: "ca.crt" } } });
    expect(edit({ bucket: "recs", credentialsSecretRef: { name: "k" }, tls: { insecureSkipVerify: true } }, { "tls.insecureSkipVerify": false }).spec).toEqual({ bucket: "recs", credentialsSecretRef: { name: "k" } });
  });

  it("stores a retyped key under the key name the spec references, in its Secret", () => {
    expect(edit(full, { _secretAccessKey: "rotated" }).secrets).toEqual({ "s3-keys": { secret: "rotated" } });
  });
});
