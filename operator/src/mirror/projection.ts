import type { MirroredKind, MirrorRow } from "@trailkeeper/core/db/config-mirror.ts";
import { defaultSyslogPorts, destinationKinds, type SyslogTransport } from "@trailkeeper/core/crd/destination-blocks.ts";
import { mirroredSpec, urlWithoutCredentials } from "@trailkeeper/core/crd/mirrored-spec.ts";
import { gitopsManagerOf } from "@trailkeeper/core/gitops.ts";
import { tenantForNamespace } from "@trailkeeper/core/tenancy.ts";
import type { CustomObject, NamespaceObject } from "../kube/types.ts";

type Fields = Record<string, unknown>;

const record = (v: unknown): Fields => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Fields) : {});
const text = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** A URL without user info, query or fragment, which may carry credentials (tokens in query strings). */
export const endpointWithoutCredentials = urlWithoutCredentials;

/** Display fields of the destination block: where it sends, and the non-secret settings beside it. */
function destinationTarget(type: string | undefined, block: Fields): { endpoint: string | null; details: Fields } {
  switch (type) {
    case "syslog": {
      const transport = (text(block.transport) ?? "tcp") as SyslogTransport;
      const port = typeof block.port === "number" ? block.port : defaultSyslogPorts[transport];
      const host = text(block.host);
      return { endpoint: host === undefined ? null : `${transport}://${host.includes(":") ? `[${host}]` : host}:${port}`, details: { transport } };
    }
    case "datadog":
      return { endpoint: endpointWithoutCredentials(block.endpoint), details: { site: text(block.site) ?? "datadoghq.com" } };
    case "elasticsearch":
      return { endpoint: endpointWithoutCredentials(block.url), details: {} };
    default:
      return { endpoint: endpointWithoutCredentials(block.url), details: {} };
  }
}

function common(kind: MirroredKind, object: CustomObject, tenant: string): Omit<MirrorRow, "type" | "enabled" | "format" | "endpoint" | "details" | "delivery" | "lastError"> {
  const status = record(object.status);
  const spec = mirroredSpec(kind, object.spec);
  return {
    kind,
    namespace: object.metadata.namespace ?? "",
    name: object.metadata.name,
    uid: object.metadata.uid ?? "",
    tenant,
    generation: object.metadata.generation ?? 0,
    conditions: Array.isArray(status.conditions) ? status.conditions : [],
    lastCheck: status.lastCheck ?? null,
    createdAt: object.metadata.creationTimestamp ?? null,
    managedBy: gitopsManagerOf(object.metadata),
    spec: spec.spec,
    specRedacted: spec.redacted,
  };
}

/**
 * The mirror row of a resource, from its spec as stored (valid or not) and its status; undefined when its namespace
 * names no valid tenant (nobody may see it then). The spec is copied whole (Secret references are names, never
 * values) but for the query strings and fragments of its URLs; of the status, only the fields picked here.
 */
export function mirrorRowOf(kind: MirroredKind, object: CustomObject, namespace: NamespaceObject | undefined): MirrorRow | undefined {
  if (namespace === undefined) return undefined;
  const tenant = tenantForNamespace(namespace);
  if (!tenant.ok) return undefined;
  const spec = record(object.spec);
  const status = record(object.status);
  if (kind === "RecordingStorage") {
    return {
      ...common(kind, object, tenant.tenant), type: "s3", enabled: true, format: null, endpoint: endpointWithoutCredentials(spec.endpoint),
      details: { bucket: text(spec.bucket) ?? null, region: text(spec.region) ?? "us-east-1", prefix: text(spec.prefix) ?? "", forcePathStyle: spec.forcePathStyle === true },
      delivery: null, lastError: null,
    };
  }
  const type = text(status.type) ?? destinationKinds.find((k) => spec[k] !== undefined);
  const delivery = record(status.delivery);
  return {
    ...common(kind, object, tenant.tenant), type: type ?? null, enabled: spec.enabled !== false, format: text(status.format) ?? text(spec.format) ?? null,
    ...destinationTarget(type, record(type === undefined ? undefined : spec[type])),
    delivery: status.delivery ?? null, lastError: text(delivery.lastError) ?? null,
  };
}
