/**
 * The YAML a GitOps user commits when the API server has no Kubernetes access: the resource and its Secret,
 * rendered in the browser only (never sent anywhere). JSON-compatible values only, block style, strings quoted
 * whenever a plain scalar could be read as something else.
 */
import { crdApiVersion } from "../../../core/src/crd/common.ts";
import type { InlineSecrets } from "../api/types.ts";

const plain = /^[A-Za-z_./][A-Za-z0-9_./:@-]*$/;
const reserved = /^(true|false|yes|no|on|off|y|n|null|~)$/i;

function scalar(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  const s = String(v);
  // JSON strings are valid YAML double-quoted scalars.
  return plain.test(s) && !reserved.test(s) && !s.endsWith(":") ? s : JSON.stringify(s);
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

function lines(value: unknown, indent: string): string[] {
  if (Array.isArray(value)) {
    if (value.length === 0) return [`${indent}[]`];
    return value.flatMap((item) => {
      const inner = lines(item, `${indent}  `);
      const first = inner[0]!.trimStart();
      return [`${indent}- ${first}`, ...inner.slice(1)];
    });
  }
  if (isObject(value)) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return [`${indent}{}`];
    return entries.flatMap(([k, v]) => {
      const key = scalar(k);
      if ((isObject(v) && Object.keys(v).length > 0) || (Array.isArray(v) && v.length > 0)) return [`${indent}${key}:`, ...lines(v, `${indent}  `)];
      return [`${indent}${key}: ${isObject(v) ? "{}" : Array.isArray(v) ? "[]" : scalar(v)}`];
    });
  }
  return [`${indent}${scalar(value)}`];
}

export function toYaml(value: unknown): string {
  return `${lines(value, "").join("\n")}\n`;
}

/** The custom resource and, when secrets were typed, one Secret per name, as one multi-document YAML file. */
export function manifestYaml(kind: "LogForwardingDestination" | "RecordingStorage", namespace: string, name: string, spec: unknown, secrets: InlineSecrets): string {
  const docs: unknown[] = Object.entries(secrets).map(([secretName, data]) => ({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: secretName, namespace },
    type: "Opaque",
    stringData: data,
  }));
  docs.push({ apiVersion: crdApiVersion, kind, metadata: { name, namespace }, spec });
  return docs.map(toYaml).join("---\n");
}
