import { randomFillSync } from "node:crypto";

/**
 * Random bytes for ids come from a 4 KiB buffer refilled from the CSPRNG every 256 ids (as crypto.randomUUID
 * does internally): one `randomBytes(16)` call per id was 10 % of the ingest path's main thread.
 */
const poolBytes = 4096;
const pool = Buffer.allocUnsafe(poolBytes);
let offset = poolBytes;

/** 16 fresh random bytes; valid until the next call (uuidv7 turns them into hex at once). */
function random16(): Buffer {
  if (offset + 16 > poolBytes) {
    randomFillSync(pool);
    offset = 0;
  }
  offset += 16;
  return pool.subarray(offset - 16, offset);
}

/** RFC 9562 UUID version 7: 48-bit Unix milliseconds, then random bits; sorts by creation time. */
export function uuidv7(now: number = Date.now()): string {
  const b = random16();
  b.writeUIntBE(now, 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
