import { canonicalJson } from "../../core/src/events/canonical.ts";
import type { StoredEvent } from "../../core/src/events/model.ts";
import { formulaLeadChars } from "../../core/src/export/csv.ts";

/**
 * The documented CSV rules (docs/api.md) written plainly in JS: the oracle the export, which PostgreSQL's COPY
 * produces (core/src/export/csv-copy.ts), is compared with byte for byte.
 */
export const neutralise = (cell: string) => (cell !== "" && formulaLeadChars.includes(cell[0]!) ? `'${cell}` : cell);

const quote = (cell: string) => (/[",\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell);

export function csvValues(e: StoredEvent): string[] {
  return [
    e.id, String(e.seq), e.occurredAt, e.receivedAt, e.tenant, e.actor.id, e.actor.name ?? "", e.actor.type, e.action,
    e.category, e.resource.type, e.resource.id, e.resource.name ?? "", e.outcome, e.clientIp ?? "", e.userAgent ?? "",
    e.sessionId ?? "", e.requestId ?? "", e.details === undefined ? "" : canonicalJson(e.details), e.prevHash, e.hash,
  ];
}

/** One RFC 4180 record, CRLF-terminated. */
export const csvRecord = (cells: readonly string[]) => `${cells.map((c) => quote(neutralise(c))).join(",")}\r\n`;
