import { z } from "zod";
import { parseConfig } from "@trailkeeper/core/config.ts";
import { consoleConfigShape } from "./console-config.ts";
import { kubernetesAccessShape } from "./kube/config.ts";

const positiveInt = (def: number) => z.coerce.number().int().positive().default(def);
/** Milliseconds, where 0 turns the limit off. */
const millisOrOff = (def: number) => z.coerce.number().int().min(0).default(def);

export const apiServerConfigSchema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    HOST: z.string().default("0.0.0.0"),
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
    // A streaming replica for search, export and verification: see services/read-replica.ts and docs/scaling.md.
    DATABASE_READ_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
    TRAILKEEPER_READ_MAX_LAG_MS: positiveInt(30_000),
    TRAILKEEPER_READ_WAIT_MS: millisOrOff(2000),
    TRAILKEEPER_DATA_DIR: z.string().default("./.data"),
    TRAILKEEPER_ADMIN_TOKEN: z.string().min(32, "must be at least 32 characters").optional(),
    TRAILKEEPER_SIGNING_KEY_FILE: z.string().optional(),
    TRAILKEEPER_LOG_NAME: z.string().regex(/^[^\s+]+$/, "must not contain whitespace or '+'").default("trailkeeper.dev/audit"),
    TRAILKEEPER_CHECKPOINT_EVERY_EVENTS: positiveInt(1000),
    TRAILKEEPER_CHECKPOINT_EVERY_SECONDS: positiveInt(60),
    // Partition upkeep and pruning (services/retention.ts, docs/operations.md "Retention").
    TRAILKEEPER_RETENTION_EVERY_SECONDS: positiveInt(3600),
    // The search indexer's pause once every tenant is indexed (services/search-indexer.ts, docs/adr/0009).
    TRAILKEEPER_SEARCH_INDEX_IDLE_MS: positiveInt(1000),
    TRAILKEEPER_SEARCH_INDEX_MAX_DEFERRED: z.coerce.number().int().min(0).default(100_000),
    TRAILKEEPER_SEARCH_INDEX_MAX_DEFER_SECONDS: positiveInt(30),
    TRAILKEEPER_DB_POOL_SIZE: positiveInt(20),
    TRAILKEEPER_DB_ACQUIRE_TIMEOUT_MS: millisOrOff(5000),
    TRAILKEEPER_DB_STATEMENT_TIMEOUT_MS: millisOrOff(30_000),
    TRAILKEEPER_DB_IDLE_IN_TX_TIMEOUT_MS: millisOrOff(60_000),
    // Exports and verifications (streaming reads): see services/streaming-reads.ts.
    TRAILKEEPER_DB_RESERVED_FOR_INGEST: z.coerce.number().int().positive().optional(),
    TRAILKEEPER_EXPORTS_PER_TENANT: positiveInt(4),
    TRAILKEEPER_EXPORT_QUEUE_TIMEOUT_MS: millisOrOff(2000),
    TRAILKEEPER_EXPORT_STALL_TIMEOUT_MS: positiveInt(30_000),
    TRAILKEEPER_EXPORT_STATEMENT_TIMEOUT_MS: millisOrOff(3_600_000),
    TRAILKEEPER_HTTP_HEADERS_TIMEOUT_MS: positiveInt(10_000),
    TRAILKEEPER_HTTP_REQUEST_TIMEOUT_MS: positiveInt(60_000),
    TRAILKEEPER_HTTP_KEEP_ALIVE_TIMEOUT_MS: positiveInt(5000),
    TRAILKEEPER_SHUTDOWN_TIMEOUT_MS: positiveInt(25_000),
    LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
    // Test before saving (routes/config-test.ts): the operator's egress settings, same names and defaults.
    EGRESS_ALLOW_LOOPBACK: z.stringbool().default(false),
    EGRESS_ALLOW_LINK_LOCAL: z.stringbool().default(false),
    EGRESS_ALLOW_CLOUD_METADATA: z.stringbool().default(false),
    TRAILKEEPER_CONFIG_TESTS_PER_MINUTE: positiveInt(10),
    TRAILKEEPER_CONFIG_TEST_BURST: positiveInt(3),
    ...consoleConfigShape,
    ...kubernetesAccessShape,
  })
  .superRefine((c, ctx) => {
    if (c.DATABASE_URL && !c.TRAILKEEPER_ADMIN_TOKEN) {
      ctx.addIssue({ code: "custom", path: ["TRAILKEEPER_ADMIN_TOKEN"], message: "is required when DATABASE_URL is set (it is generated only in embedded mode)" });
    }
    if (c.DATABASE_URL && !c.TRAILKEEPER_SIGNING_KEY_FILE) {
      ctx.addIssue({ code: "custom", path: ["TRAILKEEPER_SIGNING_KEY_FILE"], message: "is required when DATABASE_URL is set: every replica must sign with the same key" });
    }
    if (c.DATABASE_READ_URL && !c.DATABASE_URL) {
      ctx.addIssue({ code: "custom", path: ["DATABASE_READ_URL"], message: "needs DATABASE_URL: the embedded PostgreSQL has no replica (it moves to a new port on every start)" });
    }
    if (c.TRAILKEEPER_DB_RESERVED_FOR_INGEST !== undefined && c.TRAILKEEPER_DB_RESERVED_FOR_INGEST >= c.TRAILKEEPER_DB_POOL_SIZE) {
      ctx.addIssue({ code: "custom", path: ["TRAILKEEPER_DB_RESERVED_FOR_INGEST"], message: "must be below TRAILKEEPER_DB_POOL_SIZE (exports need at least one connection)" });
    }
    if (c.TRAILKEEPER_HTTP_HEADERS_TIMEOUT_MS > c.TRAILKEEPER_HTTP_REQUEST_TIMEOUT_MS) {
      ctx.addIssue({ code: "custom", path: ["TRAILKEEPER_HTTP_HEADERS_TIMEOUT_MS"], message: "must not exceed TRAILKEEPER_HTTP_REQUEST_TIMEOUT_MS (the headers are part of the request)" });
    }
  });

export type ApiServerEnv = z.output<typeof apiServerConfigSchema>;

export function loadApiServerConfig(env: Record<string, string | undefined> = process.env): ApiServerEnv {
  return parseConfig(apiServerConfigSchema, env);
}
