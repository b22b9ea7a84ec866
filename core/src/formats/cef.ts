import { isIPv4 } from "node:net";
import type { StoredEvent } from "../events/model.ts";
import { eventSummary } from "../destinations/event-summary.ts";
import { detailsText, deviceProduct, deviceVendor, deviceVersion, present, singleLine } from "./fields.ts";
import { severityOf } from "./severity.ts";

/**
 * ArcSight Common Event Format (CEF) version 0: `CEF:0|Vendor|Product|Version|Event Class ID|Name|Severity|Extension`.
 * Header fields escape `\` and `|`; extension values escape `\`, `=` and line breaks (`\n`, `\r`), so any text,
 * however hostile, comes back exactly from a parser that follows the specification.
 */

export function escapeCefHeader(value: string): string {
  return singleLine(value).replace(/[\\|]/g, (c) => `\\${c}`);
}

export function escapeCefValue(value: string): string {
  return value.replace(/[\\=\r\n]/g, (c) => (c === "\n" ? "\\n" : c === "\r" ? "\\r" : `\\${c}`));
}

/** The extension's key/value pairs, standard keys first; the hash chain in labelled custom fields. */
export function cefExtension(event: StoredEvent): [string, string][] {
  const ip = event.clientIp;
  return present([
    ["rt", Date.parse(event.occurredAt)],
    ["externalId", event.id],
    ["act", event.action],
    ["cat", event.category],
    ["outcome", event.outcome],
    ["suser", event.actor.name ?? event.actor.id],
    ["suid", event.actor.id],
    // CEF's src is IPv4 only; an IPv6 source goes in c6a2 (deviceCustomIPv6Address2), labelled as the spec suggests.
    ...ipFields(ip),
    ["requestClientApplication", event.userAgent],
    ["cs1Label", "tenant"],
    ["cs1", event.tenant],
    ["cn1Label", "seq"],
    ["cn1", event.seq],
    ["cs2Label", "hash"],
    ["cs2", event.hash],
    ["cs3Label", "prevHash"],
    ["cs3", event.prevHash],
    ["cs4Label", "resourceType"],
    ["cs4", event.resource.type],
    ["cs5Label", "resourceId"],
    ["cs5", event.resource.id],
    ["cs6Label", event.resource.name === undefined ? undefined : "resourceName"],
    ["cs6", event.resource.name],
    ["flexString1Label", event.details === undefined ? undefined : "details"],
    ["flexString1", detailsText(event)],
    ["flexString2Label", event.sessionId === undefined ? undefined : "sessionId"],
    ["flexString2", event.sessionId],
    ["deviceCustomDate1Label", "receivedAt"],
    ["deviceCustomDate1", Date.parse(event.receivedAt)],
  ]);
}

function ipFields(ip: string | undefined): [string, string | undefined][] {
  if (ip === undefined) return [];
  return isIPv4(ip) ? [["src", ip]] : [["c6a2Label", "Source IPv6 Address"], ["c6a2", ip]];
}

/** One event as a CEF record (no trailing newline). */
export function cefRecord(event: StoredEvent): string {
  const header = [
    "CEF:0",
    deviceVendor,
    deviceProduct,
    deviceVersion,
    event.action,
    eventSummary(event),
    String(severityOf(event.outcome, event.category)),
  ].map((f, i) => (i === 0 ? f : escapeCefHeader(f)));
  const extension = cefExtension(event).map(([k, v]) => `${k}=${escapeCefValue(v)}`).join(" ");
  return `${header.join("|")}|${extension}`;
}
