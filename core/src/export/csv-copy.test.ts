import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { crlfRecords } from "./csv-copy.ts";

async function run(chunks: Buffer[]): Promise<string> {
  const out: Buffer[] = [];
  for await (const c of Readable.from(chunks).pipe(crlfRecords())) out.push(c as Buffer);
  return Buffer.concat(out).toString("utf8");
}

describe("crlfRecords", () => {
  // As COPY … WITH (FORMAT csv) writes it: LF after each record, LF and CR inside quoted values kept.
  const copyOutput = 'a,"b\nc",d\n"x""\n""y",,"z\r\n"\nplain,"日本語",🚀\n';
  const expected = 'a,"b\nc",d\r\n"x""\n""y",,"z\r\n"\r\nplain,"日本語",🚀\r\n';

  it("ends records with CRLF and leaves line breaks inside quoted values alone", async () => {
    expect(await run([Buffer.from(copyOutput)])).toBe(expected);
  });

  it("gives the same bytes however the input is split into chunks", async () => {
    const bytes = Buffer.from(copyOutput);
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(await run([bytes.subarray(0, cut), bytes.subarray(cut)])).toBe(expected);
    }
    expect(await run([...bytes].map((b) => Buffer.from([b])))).toBe(expected);
  });

  it("grows past its initial record table in one chunk", async () => {
    const many = "r\n".repeat(5000);
    expect(await run([Buffer.from(many)])).toBe("r\r\n".repeat(5000));
  });
});
