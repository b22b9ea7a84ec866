import { setTimeout as later } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { copyCsvRecords, type BlockSink } from "./csv-copy.ts";

/**
 * A sink like a socket that accepts writes without pushing back but sends them a millisecond later: it keeps each
 * block it is given (not a copy) until then, so a block reused before flushed() resolved shows as corrupted output.
 */
function slowSink(): BlockSink & { text(): string; writes: number } {
  const sent: Buffer[] = [];
  let queue: Buffer[] = [];
  let last = Promise.resolve();
  let writes = 0;
  return {
    write(block) {
      writes += 1;
      queue.push(block);
      last = later(1).then(() => {
        for (const b of queue) sent.push(Buffer.from(b));
        queue = [];
      });
      return undefined;
    },
    flushed: () => last,
    text: () => Buffer.concat(sent).toString("utf8"),
    get writes() {
      return writes;
    },
  };
}

async function run(chunks: Buffer[], blockSize?: number): Promise<{ text: string; records: number; writes: number }> {
  const sink = slowSink();
  let records = 0;
  await copyCsvRecords((async function* () {
    for (const c of chunks) yield c;
  })(), sink, (n) => (records += n), blockSize);
  await sink.flushed(); // as an export does before it ends the response
  return { text: sink.text(), records, writes: sink.writes };
}

describe("copyCsvRecords", () => {
  // As COPY … WITH (FORMAT csv) writes it: LF after each record, LF and CR inside quoted values kept.
  const copyOutput = 'a,"b\nc",d\n"x""\n""y",,"z\r\n"\nplain,"日本語",🚀\n';
  const expected = 'a,"b\nc",d\r\n"x""\n""y",,"z\r\n"\r\nplain,"日本語",🚀\r\n';

  it("ends records with CRLF, leaves line breaks inside quoted values alone and counts the records", async () => {
    expect(await run([Buffer.from(copyOutput)])).toMatchObject({ text: expected, records: 3, writes: 1 });
  });

  it("gives the same bytes however the input is split into chunks", async () => {
    const bytes = Buffer.from(copyOutput);
    for (let cut = 1; cut < bytes.length; cut++) {
      expect((await run([bytes.subarray(0, cut), bytes.subarray(cut)])).text).toBe(expected);
    }
    expect((await run([...bytes].map((b) => Buffer.from([b])))).text).toBe(expected);
  });

  it("gives the same bytes with blocks smaller than a record, reusing blocks only once they were sent", async () => {
    const bytes = Buffer.from(copyOutput.repeat(10));
    for (const blockSize of [1, 2, 3, 7, 64]) {
      const r = await run([bytes.subarray(0, 100), bytes.subarray(100, 1001), bytes.subarray(1001)], blockSize);
      expect(r.text).toBe(expected.repeat(10));
      expect(r.records).toBe(30);
      expect(r.writes).toBeGreaterThanOrEqual(Math.ceil(Buffer.byteLength(expected.repeat(10)) / blockSize));
    }
  });

  it("carries a record longer than a block", async () => {
    const long = `${"x".repeat(200_000)},"${"y\n".repeat(50_000)}"\n`;
    expect((await run([Buffer.from(long)])).text).toBe(`${long.slice(0, -1)}\r\n`);
  });
});
