import { z } from "zod";
import {
  checkIntervalField,
  conditionsSchema,
  filterSchema,
  lastCheckSchema,
  observedGenerationField,
  timeoutField,
  timestampSchema,
} from "./common.ts";
import { destinationBlocks, destinationKinds, type DestinationKind } from "./destination-blocks.ts";
import { durationField } from "./duration.ts";
import { defaultFormatOf, eventFormats, formatsByKind, formatsByKindText, kindCarries, type EventFormat } from "../formats/formats.ts";
import { withRules } from "./rules.ts";

export const deliverySpecSchema = z
  .object({
    batchSize: z.int().min(1).max(10000).default(500).describe("Most events per request (Datadog caps at 1000 regardless)."),
    batchBytes: z.int().min(1024).max(5_242_880).default(1_048_576).describe("Most bytes per request before compression."),
    flushInterval: durationField({ min: "100ms", max: "1m", default: "1s", description: "Longest wait to fill a batch." }),
    maxBackoff: durationField({ min: "1s", max: "1h", default: "5m", description: "Cap of the exponential retry backoff." }),
    onPermanentError: z
      .enum(["deadLetter", "pause"])
      .default("deadLetter")
      .describe("On an event the destination rejects for good: deadLetter records it and continues, pause stops delivery until fixed."),
  })
  .describe("Batching and retry tuning.");

type BlockFields = { [K in DestinationKind]: z.ZodOptional<(typeof destinationBlocks)[K]> };
const blockFields = Object.fromEntries(
  destinationKinds.map((k) => [k, destinationBlocks[k].optional()]),
) as BlockFields;

const setBlocks = (spec: Partial<Record<DestinationKind, unknown>>) => destinationKinds.filter((k) => spec[k] !== undefined);

export const logForwardingDestinationSpecSchema = withRules(
  z
    .object({
      enabled: z.boolean().default(true).describe("Forward events; when false the destination is kept but idle (and not tested)."),
      ...blockFields,
      format: z
        .enum(eventFormats)
        .optional()
        .describe(`Event format on the wire; each destination type carries some (its default first): ${formatsByKindText()}.`),
      filter: filterSchema.optional(),
      checkInterval: checkIntervalField,
      timeout: timeoutField,
      delivery: deliverySpecSchema.prefault({}),
    })
    .describe("Where and how to forward this namespace's tenant's audit events."),
  [
    {
      rule: `[${destinationKinds.map((k) => `has(self.${k})`).join(", ")}].exists_one(x, x)`,
      message: `exactly one of ${destinationKinds.join(", ")} must be set`,
      holds: (spec) => setBlocks(spec).length === 1,
    },
    {
      rule: `!has(self.format) || ${destinationKinds.map((k) => `(has(self.${k}) && self.format in [${formatsByKind[k].map((f) => `'${f}'`).join(", ")}])`).join(" || ")}`,
      message: `format is not one this destination type carries (${formatsByKindText()})`,
      fieldPath: ".format",
      holds: (spec) => spec.format === undefined || setBlocks(spec).every((k) => kindCarries(k, spec.format as EventFormat)),
    },
  ],
  [
    {
      // The delivery cursor belongs to the resource; pointing it at another kind of system would resume mid-stream there.
      rule: destinationKinds.map((k) => `has(self.${k}) == has(oldSelf.${k})`).join(" && "),
      message: "the destination type cannot change; create a new LogForwardingDestination instead",
      reason: "FieldValueForbidden",
    },
  ],
);

export const deliveryStatusSchema = z
  .object({
    delivered: z.int().min(0).optional().describe("Events acknowledged by the destination."),
    failed: z.int().min(0).optional().describe("Failed delivery attempts."),
    deadLettered: z.int().min(0).optional().describe("Events rejected for good and recorded in the dead-letter table."),
    lagEvents: z.int().min(0).optional().describe("Events appended but not yet delivered."),
    lastDeliveredAt: timestampSchema.optional(),
    lastError: z.string().max(1024).optional(),
    cursorSeq: z.int().min(0).optional().describe("Sequence number of the last delivered event."),
  })
  .describe("Delivery statistics, written at most every 30 s by the forwarder.");

export const logForwardingDestinationStatusSchema = z.object({
  observedGeneration: observedGenerationField,
  type: z.enum(destinationKinds).optional().describe("The destination block in use (shown by kubectl get)."),
  format: z.string().max(64).optional().describe("Event format in use: spec.format, or the destination type's default (shown by kubectl get)."),
  conditions: conditionsSchema,
  lastCheck: lastCheckSchema.optional(),
  delivery: deliveryStatusSchema.optional(),
});

export type LogForwardingDestinationSpec = z.output<typeof logForwardingDestinationSpecSchema>;
/** What a user writes: defaulted fields may be left out. */
export type LogForwardingDestinationSpecInput = z.input<typeof logForwardingDestinationSpecSchema>;
export type DeliveryStatus = z.output<typeof deliveryStatusSchema>;

export const logForwardingDestinationNames = {
  kind: "LogForwardingDestination",
  listKind: "LogForwardingDestinationList",
  plural: "logforwardingdestinations",
  singular: "logforwardingdestination",
  shortNames: ["lfd"],
} as const;

/** The format a valid spec's destination sends in: spec.format, or its kind's default (today's wire shape). */
export function destinationFormatOf(spec: Partial<Record<DestinationKind, unknown>> & { format?: EventFormat | undefined }): EventFormat | undefined {
  const kind = destinationKindOf(spec);
  return kind === undefined ? undefined : (spec.format ?? defaultFormatOf(kind));
}

/** The one destination block a valid spec carries (status.type, registry lookup). */
export function destinationKindOf(spec: Partial<Record<DestinationKind, unknown>>): DestinationKind | undefined {
  const kinds = setBlocks(spec);
  return kinds.length === 1 ? kinds[0] : undefined;
}
