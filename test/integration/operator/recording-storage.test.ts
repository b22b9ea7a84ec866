import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import type { RunningOperator } from "../../../operator/src/operator.ts";
import { s3rverCredentials, startS3rver, type LocalS3 } from "../../protocol-servers/s3-server.ts";
import { condition, createResource, createTestNamespace, deleteTestNamespace, getResource, putSecret, testKube, type CustomResourceJson } from "../../support/kube-client.ts";
import { startTestOperator, testOperatorEnv } from "../../support/kube-operator.ts";

const kube = testKube(inject("kubeconfigPath"));
let namespace: string;
let s3: LocalS3;
let operator: RunningOperator;

beforeAll(async () => {
  namespace = await createTestNamespace(kube, "op-rs");
  s3 = await startS3rver(["recordings"]);
  await putSecret(kube, namespace, "s3", { AWS_ACCESS_KEY_ID: s3rverCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3rverCredentials.secretAccessKey });
  await putSecret(kube, namespace, "s3-wrong", { AWS_ACCESS_KEY_ID: "NOT-A-KEY", AWS_SECRET_ACCESS_KEY: "nope" });
  operator = await startTestOperator(testOperatorEnv(kube.kubeconfigPath, namespace));
});

afterAll(async () => {
  await operator?.stop();
  await s3?.close();
  if (namespace) await deleteTestNamespace(kube, namespace);
});

const storageSpec = (bucket: string, secret: string) => ({
  bucket,
  endpoint: s3.endpoint,
  forcePathStyle: true,
  allowInsecureHttp: true,
  prefix: "recordings/",
  credentialsSecretRef: { name: secret },
});

async function eventually(name: string, status: string, reason: string): Promise<CustomResourceJson> {
  return vi.waitFor(
    async () => {
      const r = await getResource(kube, "recordingstorages", namespace, name);
      expect(condition(r, "Ready")).toMatchObject({ status, reason });
      expect(r.status.observedGeneration).toBe(r.metadata.generation);
      return r;
    },
    { timeout: 15_000, interval: 100 },
  );
}

describe("RecordingStorage status against a real API server and s3rver", () => {
  it("probes the bucket (put, read back, delete) and reports Ready=True", async () => {
    await createResource(kube, "recordingstorages", namespace, "recordings", storageSpec("recordings", "s3"));
    const r = await eventually("recordings", "True", "Succeeded");
    expect(r.status.lastCheck).toMatchObject({ success: true, reason: "Succeeded" });
    expect(r.status.lastCheck.message).toContain("read back and deleted");
    expect(r.status.type).toBeUndefined();
  });

  it("reports keys the store does not know as InvalidCredentials", async () => {
    await createResource(kube, "recordingstorages", namespace, "wrong-keys", storageSpec("recordings", "s3-wrong"));
    const r = await eventually("wrong-keys", "False", "InvalidCredentials");
    expect(r.status.lastCheck.message).toContain("InvalidAccessKeyId");
  });

  it("reports a missing bucket as NotFound", async () => {
    await createResource(kube, "recordingstorages", namespace, "no-bucket", storageSpec("does-not-exist", "s3"));
    await eventually("no-bucket", "False", "NotFound");
  });

  it("reports a missing credentials key as SecretKeyNotFound", async () => {
    await putSecret(kube, namespace, "s3-half", { AWS_ACCESS_KEY_ID: "S3RVER" });
    await createResource(kube, "recordingstorages", namespace, "half", storageSpec("recordings", "s3-half"));
    const r = await eventually("half", "False", "SecretKeyNotFound");
    expect(condition(r, "Stalled")).toMatchObject({ status: "True" });
  });

  it("counts checks by type and reason", async () => {
    const values = (await operator.metrics.checks.get()).values;
    const count = (reason: string) => values.find((v) => v.labels.kind === "RecordingStorage" && v.labels.type === "s3" && v.labels.reason === reason)?.value ?? 0;
    expect(count("Succeeded")).toBeGreaterThanOrEqual(1);
    expect(count("InvalidCredentials")).toBeGreaterThanOrEqual(1);
    expect(count("NotFound")).toBeGreaterThanOrEqual(1);
  });
});
