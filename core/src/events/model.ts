import { z } from "zod";
import { allowedActionPrefixes, categoryOfAction, type CategoryId } from "./categories.ts";
import { canonicalJson, withStoredText } from "./canonical.ts";

export const actorTypes = ["user", "service", "system"] as const;
export const outcomes = ["success", "failure", "unknown"] as const;
export type Outcome = (typeof outcomes)[number];

/** Largest serialised size of `details`, in UTF-8 bytes. */
export const maxDetailsBytes = 32 * 1024;

/** A tenant id is a DNS-1123 label, so a Kubernetes namespace name can be one. */
export const tenantIdSchema = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "must be a DNS-1123 label: lowercase letters, digits and '-', at most 63");

/** Text Postgres can store and JCS can hash: well-formed UTF-16 and no NUL. Also the rule for stored admin text. */
export const storableText = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => s.isWellFormed() && !s.includes("\u0000"), "must be valid Unicode without NUL characters");
const text = storableText;

const actionSchema = z
  .string()
  .max(128)
  .regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_-]*)+$/, "must be dotted lowercase words, e.g. auth.login")
  // Only a well-formed action can have an unknown prefix; the regex reports the rest.
  .refine((a) => !/^[a-z][a-z0-9_]*\./.test(a) || categoryOfAction(a) !== undefined, {
    message: `unknown action prefix; allowed prefixes: ${allowedActionPrefixes.join(" ")}`,
    params: { code: "unknown_action_prefix" },
  });

/** Deepest nesting of objects and arrays in `details`; `details` itself is level 1. */
export const maxDetailsDepth = 32;

const isJsonObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Why a JSON leaf cannot be stored exactly, or undefined when it can. */
function leafProblem(value: unknown): string | undefined {
  if (typeof value === "string") return value.isWellFormed() && !value.includes("\u0000") ? undefined : "must hold only valid Unicode without NUL characters";
  if (typeof value === "number") return Number.isFinite(value) ? undefined : "must hold only finite numbers";
  if (typeof value === "boolean" || value === null) return undefined;
  return "must hold only JSON values";
}

/**
 * Why `details` cannot be stored exactly as sent, or undefined when it can. Iterative, and it stops at the first
 * container past the depth limit, so a body nested 100,000 deep costs no more than one at the limit.
 */
export function detailsProblem(details: Record<string, unknown>): string | undefined {
  const stack: [unknown, number][] = [[details, 1]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [value, depth] = item;
    if (typeof value !== "object" || value === null) {
      const why = leafProblem(value);
      if (why !== undefined) return why;
      continue;
    }
    if (depth > maxDetailsDepth) return `must not nest objects and arrays more than ${maxDetailsDepth} levels deep`;
    // Object.keys lists an own "__proto__" key (JSON.parse creates one), so it is checked and kept like any other.
    const entries: [string, unknown][] = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
    for (const [key, child] of entries) {
      if (!key.isWellFormed() || key.includes("\u0000")) return "keys must be valid Unicode without NUL characters";
      stack.push([child, depth + 1]);
    }
  }
  return undefined;
}

/**
 * Kept as the very object the client sent: zod's record and json schemas rebuild objects by assignment, which
 * turns an own `__proto__` key into a prototype and so silently drops it from what is stored and hashed.
 */
const detailsSchema = z
  .custom<Record<string, unknown>>(isJsonObject, "must be a JSON object")
  .superRefine((d, ctx) => {
    if (!isJsonObject(d)) return; // reported by the type check above
    const why = detailsProblem(d);
    if (why !== undefined) ctx.addIssue({ code: "custom", message: why });
    else if (Buffer.byteLength(JSON.stringify(d), "utf8") > maxDetailsBytes) ctx.addIssue({ code: "custom", message: `must serialise to at most ${maxDetailsBytes} bytes` });
  })
  .meta({
    type: "object",
    additionalProperties: true,
    description: `A JSON object, stored and hashed exactly as sent (any keys, __proto__ included), at most ${maxDetailsBytes} bytes serialised and ${maxDetailsDepth} levels deep.`,
  } as Record<string, unknown>);

/** Four-digit UTC years only: PostgreSQL has no year 0, and the stored and exported forms have four digits. */
export const inStoredYearRange = (d: Date) => d.getUTCFullYear() >= 1 && d.getUTCFullYear() <= 9999;

/** What a client sends for one event. */
export const eventInputSchema = z
  .strictObject({
    id: z.uuid().optional(),
    tenant: z.string().optional().describe("Optional; when present it must equal the API key's tenant."),
    occurredAt: z.iso
      .datetime({ offset: true })
      // The stored form is a four-digit UTC year, and PostgreSQL has no year 0: an offset could push either out.
      .refine((t) => inStoredYearRange(new Date(t)), "must fall between 0001-01-01 and 9999-12-31 in UTC")
      .optional(),
    actor: z.strictObject({
      id: text(256),
      name: text(256).optional(),
      type: z.enum(actorTypes),
    }),
    action: actionSchema,
    resource: z.strictObject({
      type: text(128),
      id: text(256),
      name: text(256).optional(),
    }),
    outcome: z.enum(outcomes).default("unknown"),
    clientIp: z.union([z.ipv4(), z.ipv6()]).optional(),
    userAgent: text(1024).optional(),
    details: detailsSchema.optional(),
    sessionId: text(256).optional(),
    requestId: text(256).optional(),
  });

export type EventInput = z.input<typeof eventInputSchema>;
export type ParsedEventInput = z.output<typeof eventInputSchema>;

/** Largest batch accepted by one request. */
export const maxBatchEvents = 1000;

export const ingestBodySchema = z.union([
  z.strictObject({ events: z.array(eventInputSchema).min(1).max(maxBatchEvents) }),
  eventInputSchema,
]);

/**
 * A stored event: exactly the object whose canonical JSON (without `hash`) is hashed.
 * Optional fields are absent, never null. Timestamps are UTC RFC 3339 with millisecond precision.
 */
export interface StoredEvent {
  id: string;
  tenant: string;
  seq: number;
  occurredAt: string;
  receivedAt: string;
  actor: { id: string; name?: string; type: (typeof actorTypes)[number] };
  action: string;
  category: CategoryId;
  resource: { type: string; id: string; name?: string };
  outcome: Outcome;
  clientIp?: string;
  userAgent?: string;
  details?: Record<string, unknown>;
  sessionId?: string;
  requestId?: string;
  prevHash: string;
  hash: string;
}

/** A validated event ready to be placed in a chain: everything but seq, prevHash and hash. */
export type PendingEvent = Omit<StoredEvent, "seq" | "prevHash" | "hash">;

/** Normalises an RFC 3339 timestamp to the stored form (UTC, milliseconds). */
export function normaliseTimestamp(value: string | Date): string {
  return (typeof value === "string" ? new Date(value) : value).toISOString();
}

/** Builds the pending event for a tenant from validated input; `id` is generated by the caller when absent. */
export function toPendingEvent(input: ParsedEventInput, tenant: string, id: string, receivedAt: Date): PendingEvent {
  const category = categoryOfAction(input.action);
  if (!category) throw new Error(`unvalidated action ${input.action}`);
  const received = normaliseTimestamp(receivedAt);
  return dropUndefined({
    id,
    tenant,
    occurredAt: input.occurredAt ? normaliseTimestamp(input.occurredAt) : received,
    receivedAt: received,
    actor: dropUndefined({ id: input.actor.id, name: input.actor.name, type: input.actor.type }),
    action: input.action,
    category,
    resource: dropUndefined({ type: input.resource.type, id: input.resource.id, name: input.resource.name }),
    outcome: input.outcome,
    clientIp: input.clientIp,
    userAgent: input.userAgent,
    // Canonicalised once here: hashing and the stored row both reuse the text.
    details: input.details && withStoredText(input.details, canonicalJson(input.details)),
    sessionId: input.sessionId,
    requestId: input.requestId,
  });
}

function dropUndefined<T extends object>(obj: T): T {
  for (const key of Object.keys(obj) as (keyof T)[]) if (obj[key] === undefined) delete obj[key];
  return obj;
}
