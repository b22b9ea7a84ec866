import { closeSync, fstatSync, openSync, readFileSync, readSync } from "node:fs";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { HashCheckedEvent } from "./chain-verifier.ts";
import { LineCollector, lineFields } from "./export-line.ts";

/**
 * The fast path of export-line.ts on two threads. The export is cut into chunks of about a mebibyte (a line belongs
 * to the chunk holding its first byte). This thread claims chunks from the front and collects their lines as it
 * goes; a worker thread claims chunks from the back, checks their lines (scanning and hashing, most of the cost)
 * and writes what it found to shared memory. Claims are atomic, so each chunk is checked once, and the split adapts
 * by itself: a worker that starts late (loading its modules takes about 0.1 s) or gets no core of its own takes
 * fewer chunks, and this thread never waits for more than the chunk the worker is on. When the two meet, this
 * thread collects the worker's chunks in order. The worker runs the same checkExportLine, so the result is exactly
 * jsonlEvents'. This thread waits synchronously (Atomics.wait), so parseExport stays synchronous; a worker that
 * fails or makes no progress for a while is given up and its chunks are checked here.
 */

/** Below this size a worker's start-up (loading the modules, about 0.1 s) costs more than it saves. */
export const minParallelBytes = 8 << 20;
const stallMs = 5000;
const chunkBytes = 1 << 20;
/** A line the fast path takes is longer than this; shorter lines past a chunk's capacity are left to this thread. */
const shortestLine = 150;

export interface LineJob {
  /** The export: `length` bytes from `offset` of `bytes`. */
  bytes: SharedArrayBuffer;
  offset: number;
  length: number;
  chunkBytes: number;
  /** Int32 per chunk: who claimed it (claim.*). */
  claims: SharedArrayBuffer;
  /** Float64: per chunk, chunkResults.size values (see chunkResults). */
  results: SharedArrayBuffer;
  /** Int32: [state (workerState), progress counter]. */
  control: SharedArrayBuffer;
}

export const claim = { free: 0, main: 1, worker: 2 } as const;
/** Per line the worker checked: [start, end, taken, ...lineFields, the leaf hash's 32 bytes (4 values' room)]. */
export const lineRecord = { fields: 3, leaf: 3 + lineFields.count, size: 3 + lineFields.count + 4 } as const;
/** A chunk's results: [lines, reached] (reached: where this thread carries on), then lines × lineRecord. */
export const chunkResults = { header: 2, capacity: Math.ceil(chunkBytes / shortestLine) + 1, size: 2 + (Math.ceil(chunkBytes / shortestLine) + 1) * lineRecord.size } as const;
export const workerState = { running: 0, done: 1, failed: 2 } as const;

/** Byte offset of the first line starting at or after chunk `i`'s first byte (the end of the bytes if none). */
export function chunkStart(bytes: Buffer, i: number, size: number): number {
  const at = i * size;
  if (at <= 0) return 0;
  if (at >= bytes.length) return bytes.length;
  const nl = bytes.indexOf(0x0a, at - 1);
  return nl < 0 ? bytes.length : nl + 1;
}

/** A file read into shared memory (what `trailkeeper verify` does with an export: no copy for the worker). */
export function readFileShared(path: string): Buffer {
  const fd = openSync(path, "r");
  try {
    const stat = fstatSync(fd);
    // A pipe (say /dev/stdin) has no size to allocate for: read it as Node does, then copy.
    if (!stat.isFile()) return sharedCopy(readFileSync(fd));
    const size = stat.size;
    const buf = Buffer.from(new SharedArrayBuffer(size));
    let at = 0;
    for (let n = 1; at < size && n > 0; at += n) n = readSync(fd, buf, at, size - at, at);
    return buf.subarray(0, at);
  } finally {
    closeSync(fd);
  }
}

/** A Buffer in shared memory holding a copy of `bytes` (a worker can then read it without another copy). */
export function sharedCopy(bytes: Buffer): Buffer {
  if (bytes.buffer instanceof SharedArrayBuffer) return bytes;
  const shared = Buffer.from(new SharedArrayBuffer(bytes.length));
  bytes.copy(shared);
  return shared;
}

/** A worker started ahead (prestartLineWorker), waiting for its job. */
let warm: Worker | undefined;

function startWorker(): Worker {
  const worker = new Worker(new URL("./export-line-worker.ts", import.meta.url));
  worker.unref();
  // A worker that could not start or failed is given up (its chunks are checked on this thread); its error is no
  // one's to throw.
  worker.on("error", () => undefined);
  return worker;
}

/**
 * Starts the worker thread before the export is read (`trailkeeper verify` does, for a large file), so that its
 * start-up (loading its modules, about 0.1 s) overlaps the reading instead of delaying its first chunk. An unused
 * worker only waits; it does not keep the process alive.
 */
export function prestartLineWorker(): void {
  if (availableParallelism() >= 2) warm ??= startWorker();
}

/**
 * The events of a JSONL export (valid UTF-8, in shared memory) on two threads, as jsonlEvents gives them.
 * `workerOnly` (for tests): this thread claims nothing until the worker is done, so the worker checks every chunk.
 */
export function jsonlEventsParallel<T>(bytes: Buffer, full: (line: string, lineNo: number) => T, { workerOnly = false } = {}): (HashCheckedEvent | T)[] {
  const collector = new LineCollector(bytes, full);
  if (bytes.length < minParallelBytes || availableParallelism() < 2 || !(bytes.buffer instanceof SharedArrayBuffer)) {
    collector.scan(0, bytes.length);
    return collector.events;
  }
  const chunks = Math.ceil(bytes.length / chunkBytes);
  const job: LineJob = {
    bytes: bytes.buffer, offset: bytes.byteOffset, length: bytes.length, chunkBytes,
    claims: new SharedArrayBuffer(4 * chunks),
    // Only a chunk the worker claims is written: the pages of the others are never touched.
    results: new SharedArrayBuffer(8 * chunkResults.size * chunks),
    control: new SharedArrayBuffer(8),
  };
  const worker = warm ?? startWorker();
  warm = undefined;
  worker.postMessage(job);
  const claims = new Int32Array(job.claims);
  const start = (i: number) => chunkStart(bytes, i, chunkBytes);
  let mine = 0;
  if (workerOnly) awaitWorker(new Int32Array(job.control));
  for (; mine < chunks && Atomics.compareExchange(claims, mine, claim.free, claim.main) === claim.free; mine++) collector.scan(start(mine), start(mine + 1));
  if (mine === chunks) {
    void worker.terminate();
    return collector.events;
  }
  // The worker claims from the back without gaps, so chunks mine … chunks − 1 are all its own.
  if (!awaitWorker(new Int32Array(job.control))) {
    void worker.terminate();
    collector.scan(start(mine), bytes.length);
    return collector.events;
  }
  const out = new Float64Array(job.results);
  const outBytes = Buffer.from(job.results);
  for (let i = mine; i < chunks; i++) {
    const base = i * chunkResults.size;
    for (let l = 0; l < out[base]!; l++) {
      const at = base + chunkResults.header + l * lineRecord.size;
      const leaf = 8 * (at + lineRecord.leaf);
      if (out[at + 2] === 1) collector.checked(out, at + lineRecord.fields, outBytes.toString("latin1", leaf, leaf + 32));
      else collector.unchecked(out[at]!, out[at + 1]!);
    }
    collector.scan(out[base + 1]!, start(i + 1));
  }
  return collector.events;
}

/** Waits for the worker to finish; false when it failed or stopped making progress. */
function awaitWorker(control: Int32Array): boolean {
  // The worker counts once when it starts, so no count at all after stallMs means it never started.
  let progress = 0;
  for (;;) {
    if (Atomics.wait(control, 0, workerState.running, stallMs) !== "timed-out") break;
    const now = Atomics.load(control, 1);
    if (now === progress) return false;
    progress = now;
  }
  return Atomics.load(control, 0) === workerState.done;
}
