/**
 * A worker thread of export-lines.ts: checks the lines of one byte range of a JSONL export held in shared memory
 * (checkExportLine, the expensive part: scanning and hashing) and writes, per line, its range, whether it was taken
 * and its fields. Progress and the end are signalled through `control` (Atomics), since the main thread waits
 * synchronously.
 */
import { workerData } from "node:worker_threads";
import { checkExportLine } from "./export-line.ts";
import { lineRecord, workerState, type LineJob } from "./export-lines.ts";

const job = workerData as LineJob;
const bytes = Buffer.from(job.bytes);
const out = new Float64Array(job.results);
const control = new Int32Array(job.control);
try {
  let lines = 0;
  let start = job.from;
  const capacity = Math.floor((out.length - lineRecord.header) / lineRecord.size);
  for (; start < job.to && lines < capacity; lines++) {
    const nl = bytes.indexOf(0x0a, start);
    const end = nl < 0 || nl >= job.to ? job.to : nl;
    const at = lineRecord.header + lines * lineRecord.size;
    out[at] = start;
    out[at + 1] = end;
    out[at + 2] = checkExportLine(bytes, start, end, out, at + lineRecord.fields) ? 1 : 0;
    start = end + 1;
    if (lines % 1024 === 0) Atomics.add(control, 1, 1);
  }
  out[0] = lines;
  out[1] = Math.min(start, job.to);
  Atomics.store(control, 0, workerState.done);
} catch {
  Atomics.store(control, 0, workerState.failed);
}
Atomics.notify(control, 0);
