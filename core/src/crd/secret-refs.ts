import type { SecretKeyRef } from "./common.ts";
import type { RecordingStorageSpec } from "./recording-storage.ts";

/**
 * Every `{name, key}` Secret reference under a value, found by the `…SecretRef` naming convention of the CRDs.
 * The operator watches these Secrets and resolves them before a check; the walk keeps that list complete when a
 * field is added.
 */
export function secretRefsIn(value: unknown): SecretKeyRef[] {
  const out: SecretKeyRef[] = [];
  const visit = (node: unknown, field: string): void => {
    if (node === null || typeof node !== "object") return;
    if (Array.isArray(node)) return node.forEach((n) => visit(n, field));
    const rec = node as Record<string, unknown>;
    if (field.endsWith("SecretRef") && typeof rec.name === "string" && typeof rec.key === "string") {
      out.push({ name: rec.name, key: rec.key });
      return;
    }
    for (const [k, v] of Object.entries(rec)) visit(v, k);
  };
  visit(value, "");
  return out;
}

/** The S3 key pair is one Secret with two keys, so it is listed explicitly next to the TLS references. */
export function secretRefsOfRecordingStorage(spec: RecordingStorageSpec): SecretKeyRef[] {
  const creds = spec.credentialsSecretRef;
  return [
    { name: creds.name, key: creds.accessKeyIdKey },
    { name: creds.name, key: creds.secretAccessKeyKey },
    ...secretRefsIn(spec.tls === undefined ? undefined : { tls: spec.tls }),
  ];
}

/** Names of the Secrets a resource depends on, for the operator's Secret-to-resource index. */
export function secretNames(refs: readonly SecretKeyRef[]): string[] {
  return [...new Set(refs.map((r) => r.name))].sort();
}
