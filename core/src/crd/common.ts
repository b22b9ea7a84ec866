import { z } from "zod";
import { categoryIds, categoryTable } from "../events/categories.ts";
import { durationField } from "./duration.ts";
import { withRules } from "./rules.ts";

export const crdGroup = "trailkeeper.dev";
export const crdVersion = "v1alpha1";
export const crdApiVersion = `${crdGroup}/${crdVersion}`;

const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const secretNameSchema = z.string().min(1).max(253).regex(dns1123Subdomain, "must be a Secret name (DNS-1123 subdomain)");
export const secretDataKeySchema = z.string().min(1).max(253).regex(/^[-._a-zA-Z0-9]+$/, "must be a Secret data key");

/** A key of a Secret in the resource's own namespace; cross-namespace references are impossible by construction. */
export const secretKeyRefSchema = z
  .object({
    name: secretNameSchema.describe("Name of a Secret in the same namespace."),
    key: secretDataKeySchema.describe("Key within the Secret's data."),
  })
  .describe("Reference to one key of a Secret in the same namespace.");
export type SecretKeyRef = z.output<typeof secretKeyRefSchema>;

/** Host names and IP literals (IPv6 without brackets); URLs are validated separately. */
export const hostSchema = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9]([A-Za-z0-9.:-]*[A-Za-z0-9])?$/, "must be a host name or an IP address");

/**
 * An absolute http(s) URL without credentials in it: userinfo would put a secret into the spec, where every reader
 * of the resource sees it. Whether plain http is allowed is decided by the block's `allowInsecureHttp`.
 */
export const httpUrlSchema = withRules(
  z
    .string()
    .max(2048)
    .regex(/^https?:\/\/[^/?#@\s]+([/?#]\S*)?$/, "must be an http(s) URL without user information"),
  [{ rule: "isURL(self)", message: "must be a valid absolute URL", holds: (v) => URL.canParse(v) }],
);

export const tlsSchema = withRules(
  z
    .object({
      caSecretRef: secretKeyRefSchema.optional().describe("PEM CA bundle to trust instead of the system roots."),
      clientCertSecretRef: secretKeyRefSchema.optional().describe("PEM client certificate for mutual TLS."),
      clientKeySecretRef: secretKeyRefSchema.optional().describe("PEM private key of the client certificate."),
      insecureSkipVerify: z.boolean().default(false).describe("Skip server certificate verification. For tests only: anyone on the path can read the audit trail."),
      serverName: hostSchema.optional().describe("Name to verify the server certificate against (SNI); defaults to the host of the URL."),
    })
    .describe("TLS settings for the connection to the destination."),
  [
    {
      rule: "has(self.clientCertSecretRef) == has(self.clientKeySecretRef)",
      message: "clientCertSecretRef and clientKeySecretRef must be set together",
      holds: (t) => (t.clientCertSecretRef === undefined) === (t.clientKeySecretRef === undefined),
    },
  ],
);
export type TlsSpec = z.output<typeof tlsSchema>;

/** `https://` unless the block opts out; one rule text for every URL-bearing block. */
export function httpsUnlessAllowed<T extends { allowInsecureHttp: boolean }>(field: string, optional: boolean) {
  const value = (v: T) => (v as Record<string, unknown>)[field] as string | undefined;
  return {
    rule: optional
      ? `!has(self.${field}) || self.allowInsecureHttp || self.${field}.startsWith('https://')`
      : `self.allowInsecureHttp || self.${field}.startsWith('https://')`,
    message: `${field} must use https:// (set allowInsecureHttp: true to allow plain http)`,
    fieldPath: `.${field}`,
    holds: (v: T) => {
      const url = value(v);
      return url === undefined ? optional : v.allowInsecureHttp || url.startsWith("https://");
    },
  };
}

export const allowInsecureHttpField = z
  .boolean()
  .default(false)
  .describe("Allow a plain http:// URL. Audit events and credentials then cross the network unencrypted.");

export const checkIntervalField = durationField({
  min: "30s",
  max: "24h",
  default: "5m",
  description: "How often the operator re-tests connectivity.",
});

export const timeoutField = durationField({
  min: "1s",
  max: "2m",
  default: "10s",
  description: "Time limit for one connectivity check or delivery request.",
});

/** Action filters accept only prefixes that exist, so a typo is an error on apply rather than silence later. */
const actionPrefixes = categoryTable.flatMap((c) => c.prefixes).join("|");
export const actionFilterPattern = new RegExp(`^(${actionPrefixes})((\\.[a-z][a-z0-9_-]*)+|(\\.[a-z][a-z0-9_-]*)*\\.\\*)$`);

function unique(values: readonly string[]): boolean {
  return new Set(values).size === values.length;
}

export const filterSchema = z
  .object({
    categories: z
      .array(z.enum(categoryIds))
      .max(categoryIds.length)
      .refine(unique, "categories must not repeat")
      .optional()
      .meta({ "x-kubernetes-list-type": "set" })
      .describe("Forward only events in these categories; empty or absent means all."),
    actions: z
      .array(z.string().max(128).regex(actionFilterPattern, "must be an action such as user.login or a prefix such as user.*"))
      .max(100)
      .refine(unique, "actions must not repeat")
      .optional()
      .meta({ "x-kubernetes-list-type": "set" })
      .describe("Forward only these actions (exact, or `prefix.*`); empty or absent means all."),
  })
  .describe("Which events to forward. An event must match both lists when both are given.");
export type EventFilter = z.output<typeof filterSchema>;

export const conditionStatuses = ["True", "False", "Unknown"] as const;
/** The condition types kstatus, Flux and Argo CD read (see docs/crds.md), and Delivering: the forwarder's health. */
export const conditionTypes = ["Ready", "Reconciling", "Stalled", "Delivering"] as const;
export type ConditionType = (typeof conditionTypes)[number];

const timestamp = z.iso.datetime({ offset: true });

/** metav1.Condition, field for field, so generic tooling understands it. */
export const conditionSchema = z.object({
  type: z.string().min(1).max(316).regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/),
  status: z.enum(conditionStatuses),
  observedGeneration: z.int().min(0).optional(),
  lastTransitionTime: timestamp,
  reason: z.string().min(1).max(1024).regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/),
  message: z.string().max(32768),
});
export type Condition = z.output<typeof conditionSchema>;

export const conditionsSchema = z
  .array(conditionSchema)
  .max(16)
  .optional()
  .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] })
  .describe("Ready, Reconciling or Stalled while true, and Delivering on forwarding destinations.");

export const lastCheckSchema = z
  .object({
    time: timestamp.describe("When the check finished."),
    success: z.boolean(),
    reason: z.string().max(64).optional().describe("CamelCase outcome, e.g. Succeeded, InvalidCredentials, Unreachable."),
    latencyMs: z.int().min(0).optional(),
    message: z.string().max(1024).optional().describe("What was checked and what happened; never contains secrets."),
  })
  .describe("Result of the most recent connectivity check.");
export type LastCheck = z.output<typeof lastCheckSchema>;

export const observedGenerationField = z.int().min(0).optional().describe("metadata.generation the status describes.");
export const timestampSchema = timestamp;
