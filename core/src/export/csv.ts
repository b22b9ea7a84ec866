import type { StoredEvent } from "../events/model.ts";

/** The fixed CSV column order (documented in docs/api.md). */
export const csvColumns = [
  "id", "seq", "occurredAt", "receivedAt", "tenant", "actorId", "actorName", "actorType", "action", "category",
  "resourceType", "resourceId", "resourceName", "outcome", "clientIp", "userAgent", "sessionId", "requestId",
  "details", "prevHash", "hash",
] as const;

/**
 * Cells a spreadsheet would read as a formula get a leading apostrophe (OWASP CSV injection guidance): those that
 * begin with one of these characters. A cell that already begins with an apostrophe gets one too, so the
 * transformation is reversible: strip exactly one leading apostrophe to recover the stored value. The export
 * applies the rule in SQL (csv-copy.ts); test/support/csv-reference.ts writes the same rules in JS as the oracle.
 */
export const formulaLeadChars = "=+-@\t\r\n'";
export const restore = (cell: string) => (cell.startsWith("'") ? cell.slice(1) : cell);
export const csvHeader = () => `${csvColumns.join(",")}\r\n`;

/** Rebuilds the stored event from a CSV record's cells (after `restore`); empty cells are absent fields. */
export function eventFromCsv(cells: readonly string[]): StoredEvent {
  if (cells.length !== csvColumns.length) throw new Error(`expected ${csvColumns.length} cells, found ${cells.length}`);
  const c = Object.fromEntries(csvColumns.map((name, i) => [name, restore(cells[i]!)])) as Record<(typeof csvColumns)[number], string>;
  const opt = (v: string) => (v === "" ? undefined : v);
  const e = {
    id: c.id, tenant: c.tenant, seq: Number(c.seq), occurredAt: c.occurredAt, receivedAt: c.receivedAt,
    actor: { id: c.actorId, name: opt(c.actorName), type: c.actorType }, action: c.action, category: c.category,
    resource: { type: c.resourceType, id: c.resourceId, name: opt(c.resourceName) }, outcome: c.outcome,
    clientIp: opt(c.clientIp), userAgent: opt(c.userAgent), details: c.details === "" ? undefined : (JSON.parse(c.details) as Record<string, unknown>),
    sessionId: opt(c.sessionId), requestId: opt(c.requestId), prevHash: c.prevHash, hash: c.hash,
  };
  if (!Number.isSafeInteger(e.seq)) throw new Error(`seq ${c.seq} is not an integer`);
  return e as StoredEvent;
}

/**
 * Strict RFC 4180 reader: quoted fields may hold commas, quotes ("") and line breaks; a quote inside an unquoted
 * field or text after a closing quote is an error. Records end in CRLF or LF.
 */
export function* parseCsv(text: string): Generator<string[]> {
  let i = 0;
  const n = text.length;
  while (i < n) {
    const record: string[] = [];
    for (;;) {
      let cell = "";
      if (text[i] === '"') {
        i += 1;
        for (;;) {
          if (i >= n) throw new Error("unterminated quoted field");
          const ch = text[i]!;
          if (ch === '"') {
            if (text[i + 1] === '"') { cell += '"'; i += 2; continue; }
            i += 1;
            break;
          }
          cell += ch;
          i += 1;
        }
        if (i < n && text[i] !== "," && text[i] !== "\r" && text[i] !== "\n") throw new Error(`unexpected character after closing quote at offset ${i}`);
      } else {
        const start = i;
        while (i < n && text[i] !== "," && text[i] !== "\r" && text[i] !== "\n") {
          if (text[i] === '"') throw new Error(`quote inside an unquoted field at offset ${i}`);
          i += 1;
        }
        cell = text.slice(start, i);
      }
      record.push(cell);
      if (text[i] === ",") { i += 1; continue; }
      if (text[i] === "\r") i += 1;
      if (text[i] === "\n") i += 1;
      break;
    }
    yield record;
  }
}
