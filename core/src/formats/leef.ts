import type { StoredEvent } from "../events/model.ts";
import { eventSummary } from "../destinations/event-summary.ts";
import { detailsText, deviceProduct, deviceVendor, deviceVersion, present, singleLine } from "./fields.ts";
import { severityOf } from "./severity.ts";

/**
 * IBM QRadar LEEF 2.0: `LEEF:2.0|Vendor|Product|Version|EventID|DelimiterChar|attr=value<delim>attr=value…`. We
 * declare `^` as the delimiter rather than LEEF 1.0's tab, because syslog relays such as rsyslog rewrite control
 * characters (a tab arrives as `#011`) by default. LEEF defines no escaping of its own, so we use the one CEF
 * uses: a backslash before `\`, `|` in the header and before the delimiter in values, and `\n`, `\r` for line
 * breaks, keeping every event on one line and every value recoverable exactly.
 */
export const leefDelimiter = "^";
const delimiterHeader = "^";

export function escapeLeefHeader(value: string): string {
  return singleLine(value).replace(/[\\|]/g, (c) => `\\${c}`);
}

export function escapeLeefValue(value: string): string {
  return value.replace(/[\\^\r\n]/g, (c) => (c === "\n" ? "\\n" : c === "\r" ? "\\r" : `\\${c}`));
}

/** `devTime` is the stored ISO form; `devTimeFormat` tells QRadar so (Java SimpleDateFormat). */
const devTimeFormat = "yyyy-MM-dd'T'HH:mm:ss.SSSX";

/** LEEF's predefined keys where one fits (devTime, cat, sev, usrName, src), our own names for the rest. */
export function leefAttributes(event: StoredEvent): [string, string][] {
  return present([
    ["devTime", event.occurredAt],
    ["devTimeFormat", devTimeFormat],
    ["cat", event.category],
    ["sev", severityOf(event.outcome, event.category)],
    ["usrName", event.actor.name ?? event.actor.id],
    ["src", event.clientIp],
    ["eventId", event.id],
    ["action", event.action],
    ["outcome", event.outcome],
    ["summary", eventSummary(event)],
    ["actorId", event.actor.id],
    ["actorType", event.actor.type],
    ["resourceType", event.resource.type],
    ["resourceId", event.resource.id],
    ["resourceName", event.resource.name],
    ["userAgent", event.userAgent],
    ["sessionId", event.sessionId],
    ["requestId", event.requestId],
    ["details", detailsText(event)],
    ["receivedAt", event.receivedAt],
    ["tenant", event.tenant],
    ["seq", event.seq],
    ["hash", event.hash],
    ["prevHash", event.prevHash],
  ]);
}

/** One event as a LEEF 2.0 record (no trailing newline); the Event ID is the action. */
export function leefRecord(event: StoredEvent): string {
  const header = ["LEEF:2.0", deviceVendor, deviceProduct, deviceVersion, event.action].map((f, i) => (i === 0 ? f : escapeLeefHeader(f)));
  const attributes = leefAttributes(event).map(([k, v]) => `${k}=${escapeLeefValue(v)}`).join(leefDelimiter);
  return `${header.join("|")}|${delimiterHeader}|${attributes}`;
}
