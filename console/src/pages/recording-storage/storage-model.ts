/**
 * The Recording Storage form as data: the RecordingStorage CRD's fields, the spec and inline Secret they make, and
 * the CRD schema's verdict on them. Pure; tested beside it.
 */
import { recordingStorageSpecSchema } from "../../../../core/src/crd/recording-storage.ts";
import type { FieldSpec, FormValues, Validation } from "../log-forwarding/form-model.ts";
import { descriptionAt } from "../log-forwarding/schema-fields.ts";
import type { InlineSecrets } from "../../api/types.ts";

const schema = recordingStorageSpecSchema;
function field(id: string, label: string, kind: FieldSpec["kind"], more: Partial<FieldSpec> = {}): FieldSpec {
  const hint = id.startsWith("_") ? undefined : descriptionAt(schema, id);
  return { id, label, kind, ...(hint ? { hint } : {}), ...more };
}

/** The Secret keys the CRD reads by default (credentialsSecretRef.accessKeyIdKey / secretAccessKeyKey). */
export const accessKeyIdKey = "AWS_ACCESS_KEY_ID";
export const secretAccessKeyKey = "AWS_SECRET_ACCESS_KEY";

export const storageFields: FieldSpec[] = [
  field("bucket", "Bucket", "text", { placeholder: "recordings" }),
  field("region", "Region", "text", { placeholder: "us-east-1" }),
  field("endpoint", "Endpoint", "text", { placeholder: "https://minio.example.com (omit for AWS)" }),
  field("_accessKeyId", "Access key id", "text", { hint: "Stored in the Secret, never in the resource." }),
  field("_secretAccessKey", "Secret access key", "secret"),
  field("prefix", "Key prefix", "text", { placeholder: "recordings/" }),
  field("forcePathStyle", "Path-style addressing (forcePathStyle)", "checkbox"),
  field("allowInsecureHttp", "Allow plain http://", "checkbox"),
  field("tls.insecureSkipVerify", "Skip TLS certificate verification", "checkbox"),
];

type Fields = Record<string, unknown>;
const isFields = (v: unknown): v is Fields => v !== null && typeof v === "object" && !Array.isArray(v);
const textFields = ["bucket", "region", "endpoint", "prefix"] as const;
const checkboxFields = ["forcePathStyle", "allowInsecureHttp"] as const;

/** What the form shows for a stored spec (credentials are never mirrored, so the key pair stays empty). */
export function storageValuesFromSpec(spec: Fields): FormValues {
  const values: FormValues = {};
  for (const id of textFields) values[id] = typeof spec[id] === "string" ? spec[id] : "";
  for (const id of checkboxFields) values[id] = spec[id] === true;
  values["tls.insecureSkipVerify"] = isFields(spec.tls) && spec.tls.insecureSkipVerify === true;
  return values;
}

const trimmed = (v: string | boolean | undefined) => (typeof v === "string" ? v.trim() : "");

/** Sets `value` at `spec[id]`, or removes the field when it is empty (the CRD's default applies). */
function put(spec: Fields, id: string, value: unknown): void {
  if (value === undefined || value === "") delete spec[id];
  else spec[id] = value;
}

/** The TLS block with insecureSkipVerify as the form has it; dropped when nothing else is in it. */
function putSkipVerify(spec: Fields, skip: boolean): void {
  const tls: Fields = isFields(spec.tls) ? { ...spec.tls } : {};
  if (skip) tls.insecureSkipVerify = true;
  else delete tls.insecureSkipVerify;
  put(spec, "tls", Object.keys(tls).length > 0 ? tls : undefined);
}

/**
 * The spec and inline Secret the form describes. An existing storage starts from its stored spec, `base`, and only
 * fields whose value differs from what the form showed are written, so the rest (custom Secret keys, server-side
 * encryption, TLS references, intervals, unknown fields) is sent back unchanged. The key pair goes into the Secret
 * the spec references, under its keys; keys left empty keep their stored values.
 */
export function buildStorageSpec(values: FormValues, secretName: string, base?: Fields): { spec: Record<string, unknown>; secrets: InlineSecrets } {
  const spec: Fields = base ? structuredClone(base) : {};
  const before = base ? storageValuesFromSpec(base) : {};
  for (const id of textFields) if (!base || trimmed(values[id]) !== trimmed(before[id])) put(spec, id, trimmed(values[id]));
  for (const id of checkboxFields) if (!base || (values[id] === true) !== (before[id] === true)) put(spec, id, values[id] === true ? true : undefined);
  if (!base || (values["tls.insecureSkipVerify"] === true) !== (before["tls.insecureSkipVerify"] === true)) putSkipVerify(spec, values["tls.insecureSkipVerify"] === true);
  const stored = isFields(spec.credentialsSecretRef) ? spec.credentialsSecretRef : {};
  if (stored.name !== secretName) spec.credentialsSecretRef = { ...stored, name: secretName };
  const ref = spec.credentialsSecretRef as Fields;
  const data: Record<string, string> = {};
  if (trimmed(values._accessKeyId) !== "") data[typeof ref.accessKeyIdKey === "string" ? ref.accessKeyIdKey : accessKeyIdKey] = trimmed(values._accessKeyId);
  if (typeof values._secretAccessKey === "string" && values._secretAccessKey !== "") data[typeof ref.secretAccessKeyKey === "string" ? ref.secretAccessKeyKey : secretAccessKeyKey] = values._secretAccessKey;
  return { spec, secrets: Object.keys(data).length > 0 ? { [secretName]: data } : {} };
}

/** The Secret a stored spec's key pair is in. */
export function storageSecretNameOf(spec: unknown): string | undefined {
  return isFields(spec) && isFields(spec.credentialsSecretRef) && typeof spec.credentialsSecretRef.name === "string" ? spec.credentialsSecretRef.name : undefined;
}

export function validateStorage(spec: Record<string, unknown>): Validation {
  const result = schema.safeParse(spec);
  const out: Validation = { fields: {}, general: [] };
  if (result.success) return out;
  const ids = storageFields.map((f) => f.id);
  for (const issue of result.error.issues) {
    const path = issue.path.join(".");
    const id = path.startsWith("credentialsSecretRef") ? "_secretName" : ids.find((i) => path === i || path.startsWith(`${i}.`));
    if (id) out.fields[id] ??= issue.message;
    else out.general.push(path ? `${path}: ${issue.message}` : issue.message);
  }
  return out;
}
