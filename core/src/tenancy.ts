import { tenantIdSchema } from "./events/model.ts";

/** Label on a Namespace naming the tenant its resources serve. */
export const tenantLabel = "trailkeeper.dev/tenant";

export interface NamespaceLike {
  metadata?: { name?: string; labels?: Record<string, string> | undefined } | undefined;
}

export type TenantResolution =
  | { ok: true; tenant: string; source: "label" | "namespaceName" }
  | { ok: false; reason: "InvalidTenantLabel" | "InvalidNamespace"; message: string };

/**
 * The tenant a namespace's LogForwardingDestinations and RecordingStorages serve: the `trailkeeper.dev/tenant`
 * label, else the namespace name. A present but invalid label is an error, never a fallback to the name: falling
 * back would silently route one tenant's events somewhere its admin did not intend.
 */
export function tenantForNamespace(namespace: NamespaceLike): TenantResolution {
  const name = namespace.metadata?.name;
  const label = namespace.metadata?.labels?.[tenantLabel];
  if (label !== undefined) {
    return tenantIdSchema.safeParse(label).success
      ? { ok: true, tenant: label, source: "label" }
      : { ok: false, reason: "InvalidTenantLabel", message: `label ${tenantLabel}=${JSON.stringify(label.slice(0, 80))} on namespace ${name ?? "?"} is not a DNS-1123 label` };
  }
  if (name === undefined || !tenantIdSchema.safeParse(name).success) {
    return { ok: false, reason: "InvalidNamespace", message: `namespace name ${JSON.stringify(name ?? "")} is not a DNS-1123 label` };
  }
  return { ok: true, tenant: name, source: "namespaceName" };
}
