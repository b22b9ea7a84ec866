import type { Outcome, StoredEvent } from "../../events/model.ts";
import { checkpointRecordType, type CheckpointRecord } from "../checkpoint-record.ts";
import { eventSummary } from "../event-summary.ts";
import type { FormatOf } from "../../formats/formats.ts";
import { ocsfEvent } from "../../formats/ocsf.ts";

/**
 * Log status from the event's outcome, with Datadog's syslog-style status names, matching the syslog severities
 * (6, 4, 5): a failed action is worth a look but is not an error of the system that reports it.
 */
export const datadogStatusOfOutcome: Record<Outcome, "info" | "warn" | "notice"> = { success: "info", failure: "warn", unknown: "notice" };

/**
 * Datadog takes timestamps up to 18 h old (protocols.md §2). Older events (a long outage, a replay) are sent
 * without `date`, so they are stamped on arrival instead of being dropped; `trailkeeper.occurredAt` keeps the truth.
 */
export const maxDateAgeMs = 17 * 60 * 60 * 1000;

export interface DatadogLogOptions {
  source: string;
  service: string;
  hostname: string;
  tags: readonly string[];
}

export function datadogTags(event: StoredEvent, tags: readonly string[]): string {
  return [`tenant:${event.tenant}`, ...tags].join(",");
}

/**
 * One log of the v2 intake. The event is sent as attributes, not as a JSON string in `message`: attributes are
 * taken as they are, while parsing JSON out of `message` depends on the pipeline. Datadog's standard attributes
 * (`evt.*`, `usr.*`, `network.client.ip`, `http.useragent`) feed its facets and Cloud SIEM rules; the complete
 * stored event, as hashed, is under `trailkeeper`.
 */
export function datadogLogEntry(event: StoredEvent, options: DatadogLogOptions, now: number = Date.now()): Record<string, unknown> {
  return {
    ...datadogReservedAttributes(event, options, now),
    evt: { name: event.action, outcome: event.outcome, category: event.category },
    ...(event.actor.type === "user" ? { usr: { id: event.actor.id, ...(event.actor.name === undefined ? {} : { name: event.actor.name }) } } : {}),
    ...(event.clientIp === undefined ? {} : { network: { client: { ip: event.clientIp } } }),
    ...(event.userAgent === undefined ? {} : { http: { useragent: event.userAgent } }),
    trailkeeper: event,
  };
}

/** The attributes Datadog reads for itself (source, tags, host, service, status, date, message), in every format. */
function datadogReservedAttributes(event: StoredEvent, options: DatadogLogOptions, now: number): Record<string, unknown> {
  const fresh = now - Date.parse(event.occurredAt) <= maxDateAgeMs;
  return {
    ddsource: options.source,
    ddtags: datadogTags(event, options.tags),
    hostname: options.hostname,
    service: options.service,
    status: datadogStatusOfOutcome[event.outcome],
    ...(fresh ? { date: event.occurredAt } : {}),
    message: eventSummary(event),
  };
}

/**
 * The OCSF form: Datadog's own attributes plus the OCSF event under `ocsf`, the attribute Datadog's OCSF
 * processing and Cloud SIEM read.
 */
export function datadogOcsfLogEntry(event: StoredEvent, options: DatadogLogOptions, now: number = Date.now()): Record<string, unknown> {
  return { ...datadogReservedAttributes(event, options, now), ocsf: ocsfEvent(event) };
}

export function datadogLogOf(format: FormatOf<"datadog">): typeof datadogLogEntry {
  return format === "ocsf" ? datadogOcsfLogEntry : datadogLogEntry;
}

/**
 * A checkpoint as a log: `evt.name` = `trailkeeper.checkpoint` tells it from events (which carry their action
 * there), and the record, note included, is under `trailkeeper.checkpoint`. No `date`: the intake's arrival time
 * is close to the signing time, which the record keeps.
 */
export function datadogCheckpointEntry(record: CheckpointRecord, options: DatadogLogOptions): Record<string, unknown> {
  return {
    ddsource: options.source,
    ddtags: [`tenant:${record.tenant}`, ...options.tags].join(","),
    hostname: options.hostname,
    service: options.service,
    status: "info",
    message: `checkpoint of ${record.tenant} at seq ${record.seq}`,
    evt: { name: checkpointRecordType },
    trailkeeper: { checkpoint: record },
  };
}
