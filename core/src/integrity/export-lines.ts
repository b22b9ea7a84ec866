import { closeSync, fstatSync, openSync, readFileSync, readSync } from "node:fs";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { HashCheckedEvent } from "./chain-verifier.ts";
import { LineCollector, lineFields } from "./export-line.ts";

/**
 * The fast path of export-line.ts on two threads: a worker checks the second half of the lines (scanning and
 * hashing, most of the cost) while this thread checks the first half, then this thread collects the worker's lines
 * in order from what it wrote to shared memory. The worker runs the same checkExportLine, so the result is exactly
 * jsonlEvents'. This thread waits synchronously (Atomics.wait), so parseExport stays synchronous; a worker that
 * fails or makes no progress for a while is given up and its lines are checked here.
 */

/** Below this size a worker's start-up (loading the modules, about 0.1 s) costs more than it saves. */
export const minParallelBytes = 8 << 20;
const stallMs = 5000;

export interface LineJob {
  bytes: SharedArrayBuffer;
  from: number;
  to: number;
  results: SharedArrayBuffer;
  control: SharedArrayBuffer;
}

/** Layout of the worker's results (Float64): [lines, reached], then per line [start, end, taken, ...lineFields]. */
export const lineRecord = { header: 2, fields: 3, size: 3 + lineFields.count } as const;
/** control[0]: the worker's state; control[1]: a progress counter. */
export const workerState = { running: 0, done: 1, failed: 2 } as const;

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

export function jsonlEventsParallel<T>(bytes: Buffer, full: (line: string, lineNo: number) => T): (HashCheckedEvent | T)[] {
  const collector = new LineCollector(bytes, full);
  const split = bytes.length >= minParallelBytes && availableParallelism() >= 2 ? bytes.indexOf(0x0a, bytes.length >> 1) + 1 : 0;
  if (split === 0 || !(bytes.buffer instanceof SharedArrayBuffer)) {
    collector.scan(0, bytes.length);
    return collector.events;
  }
  const job: LineJob = {
    bytes: bytes.buffer, from: bytes.byteOffset + split, to: bytes.byteOffset + bytes.length,
    // A fast line is longer than 150 bytes; shorter lines past the capacity are left to this thread.
    results: new SharedArrayBuffer(8 * (lineRecord.header + lineRecord.size * Math.ceil((bytes.length - split) / 150))),
    control: new SharedArrayBuffer(8),
  };
  const worker = new Worker(new URL("./export-line-worker.ts", import.meta.url), { workerData: job });
  worker.unref();
  // A worker that could not start or failed is given up below, its lines checked here; its error is no one's to throw.
  worker.on("error", () => undefined);
  collector.scan(0, split);
  const finished = awaitWorker(new Int32Array(job.control));
  if (!finished) {
    void worker.terminate();
    collector.scan(split, bytes.length);
    return collector.events;
  }
  const out = new Float64Array(job.results);
  const lines = out[0]!;
  for (let i = 0; i < lines; i++) {
    const at = lineRecord.header + i * lineRecord.size;
    const [start, end] = [out[at]! - bytes.byteOffset, out[at + 1]! - bytes.byteOffset];
    if (out[at + 2] === 1) collector.checked(out, at + lineRecord.fields);
    else collector.unchecked(start, end);
  }
  collector.scan(out[1]! - bytes.byteOffset, bytes.length);
  return collector.events;
}

/** Waits for the worker to finish; false when it failed or stopped making progress. */
function awaitWorker(control: Int32Array): boolean {
  // The worker counts once at its first line, so no count at all after stallMs means it never started.
  let progress = 0;
  for (;;) {
    if (Atomics.wait(control, 0, workerState.running, stallMs) !== "timed-out") break;
    const now = Atomics.load(control, 1);
    if (now === progress) return false;
    progress = now;
  }
  return Atomics.load(control, 0) === workerState.done;
}
