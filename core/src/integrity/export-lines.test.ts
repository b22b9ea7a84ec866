import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readFileShared, sharedCopy } from "./export-lines.ts";

describe("reading an export into shared memory", () => {
  it("reads a file whole into a SharedArrayBuffer, and copies a Buffer that is not shared", () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "tk-shared-")), "export.jsonl");
    const content = Buffer.from(`${"é".repeat(70_000)}\n{"line":2}\n`);
    writeFileSync(file, content);
    const read = readFileShared(file);
    expect(read.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(read.equals(content)).toBe(true);
    const copy = sharedCopy(content);
    expect(copy.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(copy.equals(content)).toBe(true);
    expect(sharedCopy(copy)).toBe(copy);
  });
});
