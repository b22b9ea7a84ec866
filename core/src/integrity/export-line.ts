import { hash } from "node:crypto";
import { HashCheckedEvent } from "./chain-verifier.ts";
import { leafHashOfBinary } from "./merkle.ts";

/**
 * The fast path of offline verification (docs/integrity.md §5): a JSONL export line is the event's canonical form
 * (RFC 8785, members in the order canonicalEventJson writes them) with `"hash":…` appended as the last member, so
 * the hashed text is the line up to that member, closed with `}`, and needs neither parsing nor re-canonicalising.
 *
 * That holds only for a line that *is* canonical: checkExportLine takes a line only when it can show that
 * canonicalEventJson(JSON.parse(line)) is exactly that prefix (the same members in the same order, every string
 * written as JSON.stringify writes it, `details` canonical at every level) and the prefix hashes to the stated
 * hash. Anything else (a tampered, reordered, re-indented or unusual line) is left to the full parse-and-hash
 * path, which then fails or passes exactly as it always did. The input must be valid UTF-8, so that the bytes
 * hashed here are the bytes the full path would hash after decoding.
 */

/** Byte values the scanner looks for. */
const c = {
  quote: 0x22, backslash: 0x5c, comma: 0x2c, colon: 0x3a, open: 0x7b, close: 0x7d, openList: 0x5b, closeList: 0x5d,
  zero: 0x30, nine: 0x39, minus: 0x2d, u: 0x75,
} as const;

const lit = (s: string) => Buffer.from(s, "latin1");

// The members in canonicalEventJson's order (clientIp, details, requestId, sessionId, userAgent and the names may be absent).
const actorOrResource = [lit('{"id":'), lit(',"name":'), lit(',"type":')] as const;
const m = {
  action: lit('{"action":'), actor: lit(',"actor":'), category: lit(',"category":'), clientIp: lit(',"clientIp":'), details: lit(',"details":'),
  id: lit(',"id":'), occurredAt: lit(',"occurredAt":'), outcome: lit(',"outcome":'), prevHash: lit(',"prevHash":'), receivedAt: lit(',"receivedAt":'),
  requestId: lit(',"requestId":'), resource: lit(',"resource":'), seq: lit(',"seq":'), sessionId: lit(',"sessionId":'), tenant: lit(',"tenant":'),
  userAgent: lit(',"userAgent":'), hash: lit(',"hash":'),
};
const literals = [lit("true"), lit("false"), lit("null")];

/** The escapes JSON.stringify writes after a backslash, other than \u00xx: " \ b f n r t. */
const shortEscape = new Uint8Array(128);
for (const ch of '"\\bfnrt') shortEscape[ch.charCodeAt(0)] = 1;
/** Control characters JSON.stringify writes as \u00xx (the others have a short escape). */
const longEscaped = new Uint8Array(32).fill(1);
for (const code of [0x08, 0x09, 0x0a, 0x0c, 0x0d]) longEscaped[code] = 0;

/** Deepest `details` nesting the fast path checks; deeper lines take the full path. */
const maxDepth = 64;

class Bail extends Error {}
const bail = new Bail();

/** A cursor over one line's bytes; every method throws `bail` where the line is not in canonical form. */
class Cursor {
  b: Buffer = Buffer.alloc(0);
  p = 0;
  end = 0;
  /** Whether the last string token held a backslash (its bytes are then not its value). */
  escaped = false;

  take(l: Uint8Array): void {
    if (!this.peek(l)) throw bail;
    this.p += l.length;
  }

  peek(l: Uint8Array): boolean {
    const { b, p } = this;
    if (p + l.length > this.end) return false;
    for (let i = 0; i < l.length; i++) if (b[p + i] !== l[i]) return false;
    return true;
  }

  /** A string token as JSON.stringify writes it; returns the index of its first content byte (the cursor is past its closing quote). */
  string(): number {
    const { b, end } = this;
    let p = this.p;
    if (b[p] !== c.quote) throw bail;
    const start = ++p;
    this.escaped = false;
    for (;;) {
      if (p >= end) throw bail;
      const ch = b[p]!;
      if (ch === c.quote) break;
      if (ch < 0x20) throw bail;
      if (ch === c.backslash) {
        this.escaped = true;
        p += this.escape(p + 1);
      } else {
        p++;
      }
    }
    this.p = p + 1;
    return start;
  }

  /** Length of a canonical escape starting after the backslash at `p`. */
  escape(p: number): number {
    const { b } = this;
    const e = b[p]!;
    if (e < 128 && shortEscape[e] === 1) return 2;
    // \u00xx, lowercase, only for control characters without a short escape; anything else (a lone surrogate) bails.
    if (e !== c.u || b[p + 1] !== c.zero || b[p + 2] !== c.zero || p + 4 >= this.end) throw bail;
    const hi = b[p + 3]!;
    const lo = hexDigit(b[p + 4]!);
    if ((hi !== 0x30 && hi !== 0x31) || lo < 0 || longEscaped[(hi - 0x30) * 16 + lo] !== 1) throw bail;
    return 6;
  }

  /** A string member whose value is read later: no escapes, so its bytes are its value; returns its first byte. */
  token(): number {
    const start = this.string();
    if (this.escaped) throw bail;
    return start;
  }

  /** A seq: a non-negative safe integer in canonical form. */
  seq(): number {
    const { b } = this;
    const start = this.p;
    let p = start;
    while (p < this.end && b[p]! >= c.zero && b[p]! <= c.nine) p++;
    if (p === start || (b[start] === c.zero && p > start + 1) || p - start > 16) throw bail;
    const n = Number(b.toString("latin1", start, p));
    if (!Number.isSafeInteger(n)) throw bail;
    this.p = p;
    return n;
  }

  /** Any JSON value in RFC 8785 form (what canonicalJson writes for the value JSON.parse reads). */
  value(depth: number): void {
    if (depth > maxDepth) throw bail;
    const ch = this.b[this.p];
    if (ch === c.quote) this.string();
    else if (ch === c.open) this.object(depth);
    else if (ch === c.openList) this.array(depth);
    else if (ch === c.minus || (ch !== undefined && ch >= c.zero && ch <= c.nine)) this.number();
    else this.literal();
  }

  object(depth: number): void {
    this.p++;
    if (this.b[this.p] === c.close) {
      this.p++;
      return;
    }
    let prev = -1;
    let prevEnd = -1;
    for (;;) {
      const key = this.key();
      if (prev >= 0 && !ascending(this.b, prev, prevEnd, key, this.p - 1)) throw bail;
      prev = key;
      prevEnd = this.p - 1;
      if (this.b[this.p] !== c.colon) throw bail;
      this.p++;
      this.value(depth + 1);
      const next = this.b[this.p++];
      if (next === c.close) return;
      if (next !== c.comma) throw bail;
    }
  }

  /** A key of printable ASCII without escapes: its bytes then sort as RFC 8785 sorts keys (UTF-16 code units). */
  key(): number {
    const { b } = this;
    let p = this.p;
    if (b[p] !== c.quote) throw bail;
    const start = ++p;
    while (p < this.end && b[p] !== c.quote) {
      const ch = b[p]!;
      if (ch < 0x20 || ch > 0x7e || ch === c.backslash) throw bail;
      p++;
    }
    if (p >= this.end) throw bail;
    this.p = p + 1;
    return start;
  }

  array(depth: number): void {
    this.p++;
    if (this.b[this.p] === c.closeList) {
      this.p++;
      return;
    }
    for (;;) {
      this.value(depth + 1);
      const next = this.b[this.p++];
      if (next === c.closeList) return;
      if (next !== c.comma) throw bail;
    }
  }

  /** A number as ECMAScript (and so JSON.stringify and RFC 8785) writes it. */
  number(): void {
    const { b } = this;
    const start = this.p;
    let p = start;
    for (let ch = b[p]; p < this.end && ((ch! >= c.zero && ch! <= c.nine) || ch === c.minus || ch === 0x2b || ch === 0x2e || ch === 0x65 || ch === 0x45); ch = b[++p]);
    const token = b.toString("latin1", start, p);
    const n = Number(token);
    if (!Number.isFinite(n) || JSON.stringify(n) !== token) throw bail;
    this.p = p;
  }

  literal(): void {
    for (const l of literals) {
      if (this.peek(l)) {
        this.p += l.length;
        return;
      }
    }
    throw bail;
  }

  /** actor or resource: {"id":…(,"name":…),"type":…}, strings only. */
  party(): void {
    this.take(actorOrResource[0]);
    this.string();
    if (this.peek(actorOrResource[1])) {
      this.p += actorOrResource[1].length;
      this.string();
    }
    this.take(actorOrResource[2]);
    this.string();
    if (this.b[this.p++] !== c.close) throw bail;
  }

  optionalString(l: Uint8Array): void {
    if (this.peek(l)) {
      this.p += l.length;
      this.string();
    }
  }
}

function hexDigit(ch: number): number {
  if (ch >= 0x30 && ch <= 0x39) return ch - 0x30;
  if (ch >= 0x61 && ch <= 0x66) return ch - 0x61 + 10;
  return -1;
}

/** Whether key bytes [a, aEnd) sort strictly before [b, bEnd). */
function ascending(buf: Buffer, a: number, aEnd: number, b: number, bEnd: number): boolean {
  for (; a < aEnd && b < bEnd; a++, b++) {
    if (buf[a] !== buf[b]) return buf[a]! < buf[b]!;
  }
  return aEnd - a < bEnd - b;
}

const cursor = new Cursor();
let scratch = Buffer.alloc(4096);

/**
 * What checkExportLine writes for a line it takes, as numbers (so that a worker thread can hand them over in shared
 * memory): the seq, then the byte ranges of prevHash, hash, tenant and receivedAt. The line's Merkle leaf hash
 * (32 bytes) is not a number: lastLeaf() gives it after each line taken.
 */
export const lineFields = { seq: 0, prevHash: 1, hash: 3, tenant: 5, receivedAt: 7, count: 9 } as const;
const single = new Float64Array(lineFields.count);
let leaf = "";

/** The Merkle leaf hash (Latin-1) of the last line checkExportLine took. */
export const lastLeaf = (): string => leaf;

/**
 * Whether the line [start, end) of `bytes` (valid UTF-8, no newline) is in canonical form and hashes to its stated
 * hash; if so its fields are written to `out` from `at` (lineFields).
 */
export function checkExportLine(bytes: Buffer, start: number, end: number, out: Float64Array, at: number): boolean {
  const cur = cursor;
  cur.b = bytes;
  cur.p = start;
  // JSON.parse ignores trailing whitespace, and so does the hashed form.
  while (end > start && (bytes[end - 1] === 0x20 || bytes[end - 1] === 0x09 || bytes[end - 1] === 0x0d)) end--;
  cur.end = end;
  try {
    return scanMembers(cur, out, at) && cur.p === end;
  } catch (err) {
    if (err === bail) return false;
    throw err;
  }
}

/**
 * The event of a line checkExportLine took. The previous event's hash and tenant are reused when the line repeats
 * them (as the next prevHash and the same tenant): comparing a Latin-1 copy of ASCII bytes costs less than decoding.
 */
export function checkedEvent(bytes: Buffer, f: Float64Array, at: number, prev: HashCheckedEvent | undefined, leafHash: string): HashCheckedEvent {
  // `like` must be ASCII: a checked event's hash is a hex digest, a tenant is tested (isAscii).
  const text = (field: number, like: string | undefined) => {
    const start = f[at + field]!;
    const end = f[at + field + 1]!;
    return like !== undefined && bytesAre(bytes, start, end, like) ? like : bytes.toString("utf8", start, end);
  };
  const hash = bytes.toString("latin1", f[at + lineFields.hash], f[at + lineFields.hash + 1]);
  const tenant = prev !== undefined && isAscii(prev.tenant) ? prev.tenant : undefined;
  return new HashCheckedEvent(f[at + lineFields.seq]!, text(lineFields.prevHash, prev?.hash), hash, text(lineFields.tenant, tenant), text(lineFields.receivedAt, undefined), leafHash);
}

// Only ASCII text is its own Latin-1 bytes; tenants are DNS labels, so this is tested once per tenant string.
let asciiChecked = "";
function isAscii(s: string): boolean {
  if (s === asciiChecked) return true;
  if (!/^[\x20-\x7e]*$/.test(s)) return false;
  asciiChecked = s;
  return true;
}

/** Scans the line [start, end) of `bytes` (valid UTF-8, no newline): the event, or undefined for the full path. */
export function scanExportLine(bytes: Buffer, start: number, end: number, prev?: HashCheckedEvent): HashCheckedEvent | undefined {
  return checkExportLine(bytes, start, end, single, 0) ? checkedEvent(bytes, single, 0, prev, leaf) : undefined;
}

/** The members in canonical order, then the hash, which must be the content's. */
function scanMembers(cur: Cursor, out: Float64Array, at: number): boolean {
  const start = cur.p;
  const range = (i: number, s: number) => {
    out[at + i] = s;
    out[at + i + 1] = cur.p - 1;
  };
  cur.take(m.action);
  cur.string();
  cur.take(m.actor);
  cur.party();
  cur.take(m.category);
  cur.string();
  cur.optionalString(m.clientIp);
  if (cur.peek(m.details)) {
    cur.p += m.details.length;
    cur.value(1);
  }
  cur.take(m.id);
  cur.string();
  cur.take(m.occurredAt);
  cur.string();
  cur.take(m.outcome);
  cur.string();
  cur.take(m.prevHash);
  range(lineFields.prevHash, cur.token());
  cur.take(m.receivedAt);
  range(lineFields.receivedAt, cur.token());
  cur.optionalString(m.requestId);
  cur.take(m.resource);
  cur.party();
  cur.take(m.seq);
  out[at + lineFields.seq] = cur.seq();
  cur.optionalString(m.sessionId);
  cur.take(m.tenant);
  range(lineFields.tenant, cur.token());
  cur.optionalString(m.userAgent);
  const hashedEnd = cur.p;
  cur.take(m.hash);
  const hashStart = cur.token();
  range(lineFields.hash, hashStart);
  if (cur.b[cur.p++] !== c.close) return false;
  const digest = contentHash(cur.b, start, hashedEnd);
  if (!hexIs(cur.b, hashStart, out[at + lineFields.hash + 1]!, digest)) return false;
  leaf = leafHashOfBinary(digest);
  return true;
}

/**
 * Whether bytes [start, end) read as Latin-1 are `s`, without making a string of them: what
 * `bytes.toString("latin1", start, end) === s` answers, for the digests and repeated fields compared on every line.
 */
function bytesAre(bytes: Buffer, start: number, end: number, s: string): boolean {
  if (end - start !== s.length) return false;
  for (let i = 0; i < s.length; i++) if (bytes[start + i] !== s.charCodeAt(i)) return false;
  return true;
}

/** Whether bytes [start, end) are the lowercase hex of `binary` (bytes as a Latin-1 string), as the digest is written. */
function hexIs(bytes: Buffer, start: number, end: number, binary: string): boolean {
  if (end - start !== 2 * binary.length) return false;
  for (let i = 0; i < binary.length; i++) {
    const hi = lowerHex[bytes[start + 2 * i]!]!;
    const lo = lowerHex[bytes[start + 2 * i + 1]!]!;
    if (hi < 0 || lo < 0 || ((hi << 4) | lo) !== binary.charCodeAt(i)) return false;
  }
  return true;
}

/** Value of a lowercase hex digit by byte, −1 for any other byte. */
const lowerHex = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) lowerHex["0123456789abcdef".charCodeAt(i)] = i;

/** SHA-256 (Latin-1: one character per byte) of bytes [start, end) followed by the closing brace the hash member displaced. */
function contentHash(bytes: Buffer, start: number, end: number): string {
  const n = end - start;
  if (scratch.length < n + 1) scratch = Buffer.alloc(2 * (n + 1));
  bytes.copy(scratch, 0, start, end);
  scratch[n] = c.close;
  return hash("sha256", scratch.subarray(0, n + 1), "binary");
}

/**
 * The events of a JSONL export held as valid UTF-8 bytes, collected line by line in order: each line through the
 * fast path, and the lines it does not take through `full` (the parse-and-check path, given the line's text and its
 * number among non-blank lines). A worker thread may have checked some lines already (export-lines.ts).
 */
export class LineCollector<T> {
  readonly events: (HashCheckedEvent | T)[] = [];
  #lineNo = 0;
  #last: HashCheckedEvent | undefined;
  readonly #bytes: Buffer;
  readonly #full: (line: string, lineNo: number) => T;

  constructor(bytes: Buffer, full: (line: string, lineNo: number) => T) {
    this.#bytes = bytes;
    this.#full = full;
  }

  /** Scans and collects the lines of [from, to); `to` is the end of the bytes or just after a newline. */
  scan(from: number, to: number): void {
    const bytes = this.#bytes;
    for (let start = from; start < to; ) {
      const nl = bytes.indexOf(0x0a, start);
      const end = nl < 0 || nl >= to ? to : nl;
      if (checkExportLine(bytes, start, end, single, 0)) this.checked(single, 0, leaf);
      else this.unchecked(start, end);
      start = end + 1;
    }
  }

  /** Collects a line checkExportLine took, from its fields. */
  checked(fields: Float64Array, at: number, leafHash: string): void {
    const e = checkedEvent(this.#bytes, fields, at, this.#last, leafHash);
    this.#last = e;
    this.#lineNo++;
    this.events.push(e);
  }

  /** Collects a line the fast path did not take: blank lines are skipped, the others go the full path. */
  unchecked(start: number, end: number): void {
    const line = this.#bytes.toString("utf8", start, end);
    if (line.trim() !== "") this.events.push(this.#full(line, ++this.#lineNo));
  }
}

/** The events of a JSONL export held as valid UTF-8 bytes, on this thread (LineCollector). */
export function jsonlEvents<T>(bytes: Buffer, full: (line: string, lineNo: number) => T): (HashCheckedEvent | T)[] {
  const c = new LineCollector(bytes, full);
  c.scan(0, bytes.length);
  return c.events;
}
