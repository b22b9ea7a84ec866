import { hostname } from "node:os";
import { z } from "zod";
import { parseConfig } from "@trailkeeper/core/config.ts";

const seconds = (def: number) => z.coerce.number().positive().default(def);
const flag = z.stringbool().default(false);
const dns1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The operator's environment: one schema, parsed once at start-up (docs/operator.md lists every variable). */
export const operatorConfigSchema = z
  .object({
    KUBECONFIG: z.string().min(1).optional(),
    WATCH_NAMESPACE: z.string().regex(dns1123, "must be a namespace name").or(z.literal("")).default(""),
    POD_NAME: z.string().min(1).default(hostname()),
    POD_NAMESPACE: z.string().regex(dns1123, "must be a namespace name").default("default"),
    LEASE_NAME: z.string().regex(dns1123, "must be a DNS-1123 name").default("trailkeeper-operator"),
    LEASE_NAMESPACE: z.string().regex(dns1123, "must be a namespace name").optional(),
    LEASE_DURATION_SECONDS: seconds(15),
    RENEW_DEADLINE_SECONDS: seconds(10),
    RETRY_PERIOD_SECONDS: seconds(2),
    RESYNC_SECONDS: seconds(600),
    WORKERS: z.coerce.number().int().min(1).max(64).default(4),
    METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(8081),
    HEALTH_BIND_ADDRESS: z.string().min(1).default("0.0.0.0"),
    LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
    DELIVERY_STATUS_INTERVAL_SECONDS: seconds(30),
    EGRESS_ALLOW_LOOPBACK: flag,
    EGRESS_ALLOW_LINK_LOCAL: flag,
    EGRESS_ALLOW_CLOUD_METADATA: flag,
    CHECKPOINT_PUBLISH_INTERVAL_SECONDS: seconds(30),
    CHECKPOINT_RETENTION_MODE: z.enum(["GOVERNANCE", "COMPLIANCE"]).default("COMPLIANCE"),
    CHECKPOINT_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(2557),
  })
  .superRefine((c, ctx) => {
    if (!(c.LEASE_DURATION_SECONDS > c.RENEW_DEADLINE_SECONDS)) {
      ctx.addIssue({ code: "custom", path: ["RENEW_DEADLINE_SECONDS"], message: "must be less than LEASE_DURATION_SECONDS, or two leaders could overlap" });
    }
    if (!(c.RENEW_DEADLINE_SECONDS > c.RETRY_PERIOD_SECONDS)) {
      ctx.addIssue({ code: "custom", path: ["RETRY_PERIOD_SECONDS"], message: "must be less than RENEW_DEADLINE_SECONDS" });
    }
  })
  .transform((c) => ({ ...c, LEASE_NAMESPACE: c.LEASE_NAMESPACE ?? c.POD_NAMESPACE }));

export type OperatorConfig = z.output<typeof operatorConfigSchema>;

export function loadOperatorConfig(env: Record<string, string | undefined> = process.env): OperatorConfig {
  return parseConfig(operatorConfigSchema, env);
}
