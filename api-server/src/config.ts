import { z } from "zod";
import { parseConfig } from "@trailkeeper/core/config.ts";

const positiveInt = (def: number) => z.coerce.number().int().positive().default(def);

export const apiServerConfigSchema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    HOST: z.string().default("0.0.0.0"),
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
    TRAILKEEPER_DATA_DIR: z.string().default("./.data"),
    TRAILKEEPER_ADMIN_TOKEN: z.string().min(32, "must be at least 32 characters").optional(),
    TRAILKEEPER_SIGNING_KEY_FILE: z.string().optional(),
    TRAILKEEPER_LOG_NAME: z.string().regex(/^[^\s+]+$/, "must not contain whitespace or '+'").default("trailkeeper.dev/audit"),
    TRAILKEEPER_CHECKPOINT_EVERY_EVENTS: positiveInt(1000),
    TRAILKEEPER_CHECKPOINT_EVERY_SECONDS: positiveInt(60),
    TRAILKEEPER_DB_POOL_SIZE: positiveInt(20),
    LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  })
  .superRefine((c, ctx) => {
    if (c.DATABASE_URL && !c.TRAILKEEPER_ADMIN_TOKEN) {
      ctx.addIssue({ code: "custom", path: ["TRAILKEEPER_ADMIN_TOKEN"], message: "is required when DATABASE_URL is set (it is generated only in embedded mode)" });
    }
    if (c.DATABASE_URL && !c.TRAILKEEPER_SIGNING_KEY_FILE) {
      ctx.addIssue({ code: "custom", path: ["TRAILKEEPER_SIGNING_KEY_FILE"], message: "is required when DATABASE_URL is set: every replica must sign with the same key" });
    }
  });

export type ApiServerEnv = z.output<typeof apiServerConfigSchema>;

export function loadApiServerConfig(env: Record<string, string | undefined> = process.env): ApiServerEnv {
  return parseConfig(apiServerConfigSchema, env);
}
