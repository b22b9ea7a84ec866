import { Transform } from "node:stream";
import { isoUtcSql } from "../db/event-rows.ts";
import { csvColumns, formulaLeadChars } from "./csv.ts";

/**
 * CSV export produced by PostgreSQL itself: `COPY (SELECT <csvCopySelectList> …) TO STDOUT WITH (FORMAT csv)`
 * piped through `crlfRecords()` gives, byte for byte, what the documented rules give for every event (tested
 * against the plain JS rendering in test/support/csv-reference.ts), at close to the speed of a bare COPY,
 * because no row is ever turned into a JS object.
 *
 * How the two agree:
 * - Quoting: COPY quotes a value that holds the delimiter, a quote, CR or LF and doubles its quotes, which is
 *   the documented rule. COPY also quotes a non-NULL empty string (to tell it from NULL); the rule writes an
 *   absent or empty cell bare, so empty strings become NULL here.
 * - Formula neutralisation: a text cell beginning with one of `formulaLeadChars` (= + - @ TAB CR LF ') gets a
 *   leading apostrophe. `ascii()` reads only the first character, so the check costs almost nothing per cell.
 * - Record ends: COPY ends rows with LF; `crlfRecords()` turns each row-ending LF (one outside quotes) into CRLF.
 */
const risky = [...formulaLeadChars].map((c) => c.charCodeAt(0)).join(", ");
const cell = (col: string) => `CASE WHEN ascii(${col}) IN (${risky}) THEN '''' || ${col} ELSE NULLIF(${col}, '') END`;

const columnSql: Record<(typeof csvColumns)[number], string> = {
  id: "id",
  seq: "seq",
  occurredAt: isoUtcSql("occurred_at"),
  receivedAt: isoUtcSql("received_at"),
  tenant: cell("tenant"),
  actorId: cell("actor_id"),
  actorName: cell("actor_name"),
  actorType: cell("actor_type"),
  action: cell("action"),
  category: cell("category"),
  resourceType: cell("resource_type"),
  resourceId: cell("resource_id"),
  resourceName: cell("resource_name"),
  outcome: cell("outcome"),
  clientIp: cell("client_ip"),
  userAgent: cell("user_agent"),
  sessionId: cell("session_id"),
  requestId: cell("request_id"),
  details: cell("details"),
  prevHash: cell("prev_hash"),
  hash: cell("hash"),
};

/** SELECT list over `events` yielding the CSV cells in the documented column order. */
export const csvCopySelectList = csvColumns.map((c) => columnSql[c]).join(", ");

const LF = 10;
const CR = 13;
const QUOTE = 34;

/**
 * Turns COPY's CSV output (records ending in LF) into RFC 4180 records ending in CRLF. A LF inside a quoted
 * value stays as it is; quoting state is carried across chunk boundaries. `onRecords` hears how many records
 * each chunk ended (an export counts the rows it wrote).
 */
export function crlfRecords(onRecords?: (n: number) => void): Transform {
  let quoted = false;
  let ends = new Uint32Array(1024);
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      let n = 0;
      for (let i = 0; i < chunk.length; i++) {
        const b = chunk[i]!;
        if (b === QUOTE) quoted = !quoted;
        else if (b === LF && !quoted) {
          if (n === ends.length) {
            const grown = new Uint32Array(n * 2);
            grown.set(ends);
            ends = grown;
          }
          ends[n++] = i;
        }
      }
      if (n === 0) return done(null, chunk);
      onRecords?.(n);
      const out = Buffer.allocUnsafe(chunk.length + n);
      let from = 0;
      let at = 0;
      for (let k = 0; k < n; k++) {
        const lf = ends[k]!;
        at += chunk.copy(out, at, from, lf);
        out[at++] = CR;
        out[at++] = LF;
        from = lf + 1;
      }
      chunk.copy(out, at, from);
      done(null, out);
    },
  });
}
