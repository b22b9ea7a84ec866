import { isoUtcSql } from "../db/event-rows.ts";
import { csvColumns, formulaLeadChars } from "./csv.ts";

/**
 * CSV export produced by PostgreSQL itself: `COPY (SELECT <csvCopySelectList> …) TO STDOUT WITH (FORMAT csv)`
 * piped through `copyCsvRecords()` gives, byte for byte, what the documented rules give for every event (tested
 * against the plain JS rendering in test/support/csv-reference.ts), at close to the speed of a bare COPY,
 * because no row is ever turned into a JS object.
 *
 * How the two agree:
 * - Quoting: COPY quotes a value that holds the delimiter, a quote, CR or LF and doubles its quotes, which is
 *   the documented rule. COPY also quotes a non-NULL empty string (to tell it from NULL); the rule writes an
 *   absent or empty cell bare, so empty strings become NULL here.
 * - Formula neutralisation: a text cell beginning with one of `formulaLeadChars` (= + - @ TAB CR LF ') gets a
 *   leading apostrophe. `ascii()` reads only the first character, so the check costs almost nothing per cell.
 * - Record ends: COPY ends rows with LF; `copyCsvRecords()` turns each row-ending LF (one outside quotes) into CRLF.
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

/** Where `copyCsvRecords` hands its blocks: an export's HTTP response (api-server's ExportSink). */
export interface BlockSink {
  /** Takes a block; returns a promise when the caller should wait before writing more (backpressure). */
  write(block: Buffer): Promise<void> | undefined;
  /** Resolves once everything written so far has left for the socket, so its blocks may be reused. */
  flushed(): Promise<void>;
}

/**
 * Turns COPY's CSV output (records ending in LF) into RFC 4180 records ending in CRLF and hands them to `out` in
 * blocks of `blockSize` bytes. A LF inside a quoted value stays as it is; quoting state is carried across chunk
 * boundaries. `onRecords` hears how many records each chunk ended (an export counts the rows it wrote).
 *
 * The records are copied into a few blocks allocated once and reused once the socket has taken them, so a long
 * export allocates nothing per row or per block: a new buffer per row and per 64 KiB write left some 30 MiB of
 * dead buffers outside the V8 heap between collections, which showed as resident memory (docs/performance.md).
 */
export async function copyCsvRecords(source: AsyncIterable<Buffer>, out: BlockSink, onRecords?: (n: number) => void, blockSize = 65_536): Promise<void> {
  const blocks = Array.from({ length: 4 }, () => Buffer.allocUnsafe(blockSize));
  const taken: (Promise<void> | undefined)[] = blocks.map(() => undefined);
  let k = 0;
  let block = blocks[0]!;
  let at = 0;
  const flush = async () => {
    const wait = out.write(block.subarray(0, at));
    const done = out.flushed();
    done.catch(() => {}); // awaited before the block is reused; a failure also fails the writes and waits
    taken[k] = done;
    if (wait) await wait;
    k = (k + 1) % blocks.length;
    block = blocks[k]!;
    at = 0;
    const previous = taken[k];
    taken[k] = undefined;
    if (previous) await previous;
  };
  /** Copies src[start, end) into the blocks, flushing each one that fills. */
  const append = async (src: Buffer, start: number, end: number) => {
    while (end - start > blockSize - at) {
      const n = blockSize - at;
      src.copy(block, at, start, start + n);
      at += n;
      start += n;
      await flush();
    }
    at += src.copy(block, at, start, end);
  };
  let quoted = false;
  for await (const chunk of source) {
    let from = 0;
    let records = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === QUOTE) quoted = !quoted;
      else if (b === LF && !quoted) {
        records += 1;
        if (i - from + 2 <= blockSize - at) {
          at += chunk.copy(block, at, from, i);
          block[at++] = CR;
          block[at++] = LF;
        } else {
          await append(chunk, from, i);
          await append(crlf, 0, 2);
        }
        from = i + 1;
      }
    }
    if (chunk.length - from <= blockSize - at) at += chunk.copy(block, at, from);
    else await append(chunk, from, chunk.length);
    if (records > 0) onRecords?.(records);
  }
  if (at > 0) await flush();
}

const crlf = Buffer.from([CR, LF]);
