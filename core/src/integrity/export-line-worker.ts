/**
 * The worker thread of export-lines.ts: claims chunks of a JSONL export held in shared memory from the back, until
 * it meets a chunk the main thread claimed, and checks their lines (checkExportLine, the expensive part: scanning
 * and hashing), writing per line its range, whether it was taken and its fields. Progress and the end are signalled
 * through `control` (Atomics), since the main thread waits synchronously.
 */
import { parentPort } from "node:worker_threads";
import { checkExportLine, lastLeaf } from "./export-line.ts";
import { chunkResults, chunkStart, claim, lineRecord, workerState, type LineJob } from "./export-lines.ts";

/** Checks the chunks it claims; the main thread posts the job once the export is in shared memory. */
function run(job: LineJob): void {
  const bytes = Buffer.from(job.bytes, job.offset, job.length);
  const out = new Float64Array(job.results);
  const outBytes = Buffer.from(job.results);
  const claims = new Int32Array(job.claims);
  const control = new Int32Array(job.control);
  try {
    Atomics.add(control, 1, 1);
    for (let i = claims.length - 1; i >= 0 && Atomics.compareExchange(claims, i, claim.free, claim.worker) === claim.free; i--) {
      const base = i * chunkResults.size;
      const to = chunkStart(bytes, i + 1, job.chunkBytes);
      let start = chunkStart(bytes, i, job.chunkBytes);
      let lines = 0;
      for (; start < to && lines < chunkResults.capacity; lines++) {
        const nl = bytes.indexOf(0x0a, start);
        const end = nl < 0 || nl >= to ? to : nl;
        const at = base + chunkResults.header + lines * lineRecord.size;
        out[at] = start;
        out[at + 1] = end;
        const taken = checkExportLine(bytes, start, end, out, at + lineRecord.fields);
      out[at + 2] = taken ? 1 : 0;
      if (taken) outBytes.write(lastLeaf(), 8 * (at + lineRecord.leaf), "latin1");
        start = end + 1;
      }
      out[base] = lines;
      out[base + 1] = Math.min(start, to);
      Atomics.add(control, 1, 1);
    }
    Atomics.store(control, 0, workerState.done);
  } catch {
    Atomics.store(control, 0, workerState.failed);
  }
  Atomics.notify(control, 0);
}

parentPort!.once("message", (job: LineJob) => run(job));
