import type { Outcome, StoredEvent } from "../../events/model.ts";
import { cefRecord } from "../../formats/cef.ts";
import type { CheckpointRecord } from "../checkpoint-record.ts";
import type { FormatOf } from "../../formats/formats.ts";
import { leefRecord } from "../../formats/leef.ts";

/**
 * RFC 5424 formatting, kept apart from the transports (as in the OpenTelemetry syslog exporter) so that the
 * exact bytes can be tested without a socket.
 */

/**
 * SD-ID of our structured data. 32473 is the example Private Enterprise Number of RFC 5612, reserved for
 * documentation: replace it once Trailkeeper has a PEN of its own (receivers match on the whole SD-ID).
 */
export const trailkeeperSdId = "trailkeeper@32473";

/** Severity from the outcome: success 6 Informational, failure 4 Warning (worth a look, not an error of ours), unknown 5 Notice. */
export const syslogSeverityOfOutcome: Record<Outcome, number> = { success: 6, failure: 4, unknown: 5 };

const bom = Buffer.from([0xef, 0xbb, 0xbf]);
const rfc3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)$/;

export interface SyslogIdentity {
  facility: number;
  hostname: string;
  appName: string;
}

/** A header field (HOSTNAME ≤255, APP-NAME ≤48, PROCID ≤128, MSGID ≤32): printable US-ASCII only, or NILVALUE `-`. */
export function headerField(value: string | undefined, maxLength: number): string {
  const printable = (value ?? "").replace(/[^\x21-\x7e]/g, "").slice(0, maxLength);
  return printable === "" ? "-" : printable;
}

/** SD-NAME: 1–32 printable US-ASCII characters except `=`, space, `]` and `"`. */
export function isSdName(name: string): boolean {
  return /^[\x21-\x7e]{1,32}$/.test(name) && !/[= \]"]/.test(name);
}

/** PARAM-VALUE escaping: `"`, `\` and `]` MUST be preceded by a backslash; everything else is UTF-8 as it is. */
export function escapeParamValue(value: string): string {
  return value.replace(/["\\\]]/g, (c) => `\\${c}`);
}

export function sdElement(id: string, params: readonly (readonly [string, string])[]): string {
  for (const name of [id, ...params.map(([n]) => n)]) if (!isSdName(name)) throw new Error(`invalid SD-NAME ${JSON.stringify(name)}`);
  return `[${id}${params.map(([name, value]) => ` ${name}="${escapeParamValue(value)}"`).join("")}]`;
}

/** The chain fields a receiver needs to check completeness and integrity without parsing MSG. */
export function trailkeeperStructuredData(event: StoredEvent, truncated: boolean): string {
  const params: [string, string][] = [
    ["tenant", event.tenant],
    ["seq", String(event.seq)],
    ["id", event.id],
    ["hash", event.hash],
    ["prevHash", event.prevHash],
    ["category", event.category],
    ["outcome", event.outcome],
    ["actor", event.actor.id],
  ];
  if (truncated) params.push(["truncated", "true"]);
  return sdElement(trailkeeperSdId, params);
}

/** The longest prefix of `bytes` of at most `max` bytes that does not split a UTF-8 sequence. */
export function utf8Prefix(bytes: Buffer, max: number): Buffer {
  if (bytes.length <= max) return bytes;
  let end = Math.max(0, max);
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

export type SyslogFormat = FormatOf<"syslog">;

/**
 * MSG per format: the stored event as JSON after a BOM (MSG-UTF8), or a CEF / LEEF record without one (MSG-ANY),
 * because CEF and LEEF receivers look for `CEF:` / `LEEF:` at the very start of MSG.
 */
function messageBody(event: StoredEvent, format: SyslogFormat): Buffer {
  if (format === "cef") return Buffer.from(cefRecord(event), "utf8");
  if (format === "leef") return Buffer.from(leefRecord(event), "utf8");
  return Buffer.concat([bom, Buffer.from(JSON.stringify(event), "utf8")]);
}

/**
 * `<PRI>1 TIMESTAMP HOSTNAME APP-NAME - MSGID [trailkeeper@32473 …] BOM{event JSON}` (or a CEF / LEEF MSG). Over `maxBytes` (UDP), MSG
 * is cut at a character boundary and `truncated="true"` is added, so a receiver knows the JSON is incomplete;
 * the structured data always survives whole.
 */
export function formatSyslogMessage(event: StoredEvent, identity: SyslogIdentity, maxBytes = Number.POSITIVE_INFINITY, format: SyslogFormat = "native"): Buffer {
  const pri = identity.facility * 8 + syslogSeverityOfOutcome[event.outcome];
  const timestamp = rfc3339.test(event.occurredAt) ? event.occurredAt : "-";
  const header = `<${pri}>1 ${timestamp} ${headerField(identity.hostname, 255)} ${headerField(identity.appName, 48)} - ${headerField(event.action, 32)} `;
  const msg = messageBody(event, format);
  const whole = Buffer.concat([Buffer.from(`${header}${trailkeeperStructuredData(event, false)} `, "utf8"), msg]);
  if (whole.length <= maxBytes) return whole;
  const prefix = Buffer.from(`${header}${trailkeeperStructuredData(event, true)} `, "utf8");
  return Buffer.concat([prefix, utf8Prefix(msg, maxBytes - prefix.length)]);
}

/** RFC 6587 §3.4.1 / RFC 5425 octet counting: `MSG-LEN SP SYSLOG-MSG`, so a message may contain any byte. */
export function octetCountedFrame(message: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${message.length} `, "ascii"), message]);
}

/** MSGID of checkpoint records; events carry their action there. */
export const checkpointMsgId = "checkpoint";

/**
 * `<PRI>1 TIME HOSTNAME APP-NAME - checkpoint [trailkeeper@32473 tenant seq hash root?] BOM{record JSON}`, severity 6
 * (Informational). A record (with its ~300-byte note) fits the 2048 octets of UDP, so it is never truncated.
 */
export function formatSyslogCheckpoint(record: CheckpointRecord, identity: SyslogIdentity): Buffer {
  const timestamp = rfc3339.test(record.time) ? record.time : "-";
  const header = `<${identity.facility * 8 + 6}>1 ${timestamp} ${headerField(identity.hostname, 255)} ${headerField(identity.appName, 48)} - ${checkpointMsgId} `;
  const params: [string, string][] = [["tenant", record.tenant], ["seq", String(record.seq)], ["hash", record.hash], ...(record.root === undefined ? [] : [["root", record.root] as [string, string]])];
  return Buffer.concat([Buffer.from(`${header}${sdElement(trailkeeperSdId, params)} `, "utf8"), bom, Buffer.from(JSON.stringify(record), "utf8")]);
}
