import type { DestinationKind } from "../crd/destination-blocks.ts";

/** Every wire format a destination can send events in (spec.format). */
export const eventFormats = ["native", "ecs", "ocsf", "cef", "leef"] as const;
export type EventFormat = (typeof eventFormats)[number];

/**
 * The formats each destination kind can carry, its default first: the default is the shape each kind sent before
 * formats existed, so a resource without `format` keeps its wire shape.
 */
export const formatsByKind = {
  webhook: ["native", "ocsf"],
  splunkHec: ["native", "ocsf", "cef"],
  datadog: ["native", "ocsf"],
  elasticsearch: ["ecs", "ocsf"],
  syslog: ["native", "cef", "leef"],
} as const satisfies { [K in DestinationKind]: readonly [EventFormat, ...EventFormat[]] };

export type FormatOf<K extends DestinationKind> = (typeof formatsByKind)[K][number];

export function defaultFormatOf<K extends DestinationKind>(kind: K): FormatOf<K> {
  return formatsByKind[kind][0];
}

export function kindCarries(kind: DestinationKind, format: EventFormat): boolean {
  return (formatsByKind[kind] as readonly EventFormat[]).includes(format);
}

/** `webhook: native, ocsf; splunkHec: …`, for messages and docs. */
export function formatsByKindText(): string {
  return Object.entries(formatsByKind).map(([kind, formats]) => `${kind}: ${formats.join(", ")}`).join("; ");
}
