import { createHash, generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canonicalEventJson } from "../events/canonical-event.ts";
import { extendChain, genesisHash } from "../events/chain.ts";
import type { PendingEvent, StoredEvent } from "../events/model.ts";
import { ChainVerifier, HashCheckedEvent } from "./chain-verifier.ts";
import { signCheckpoint } from "./checkpoint-note.ts";
import { availableParallelism } from "node:os";
import { chunkStart, jsonlEventsParallel, minParallelBytes, prestartLineWorker, sharedCopy } from "./export-lines.ts";
import { jsonlEvents } from "./export-line.ts";
import { parseVerifierKey, signerFromPrivateKey } from "./signing-key.ts";
import { emptyTree, extendTree, leafHash, treeRoot } from "./merkle.ts";
import { multiProofRanges } from "./multi-proof.ts";
import { checkMerkleRoots, parseExport, UnusableInputError, verifyParsedExport, type OfflineReport, type ParsedExport } from "./offline-verify.ts";

/** A JSONL export line as the server writes it (api-server/src/services/export.ts). */
const lineOf = (e: StoredEvent) => `${canonicalEventJson(e).slice(0, -1)},"hash":${JSON.stringify(e.hash)}}`;

function chain(n: number, longNote: (i: number) => number = () => 0): StoredEvent[] {
  const pending = Array.from({ length: n }, (_, i): PendingEvent => ({
    id: `0190${String(i).padStart(4, "0")}-0000-7000-8000-000000000000`, tenant: "acme",
    occurredAt: "2026-01-02T03:04:05.006Z", receivedAt: "2026-01-02T03:04:05.007Z",
    actor: { id: `u-${i}`, type: "user" }, action: "resource.update", category: "resources",
    resource: { type: "bucket", id: "b-1" }, outcome: "success",
    details: { i, note: i % 3 ? "plain" : "ünïcode \"quoted\" \n 😀", nested: { b: [1, 2.5, null], a: true }, ...(longNote(i) > 0 ? { long: "x".repeat(longNote(i)) } : {}) },
  }));
  return extendChain({ seq: 0, hash: genesisHash }, pending).events;
}

/** parseExport of JSONL as it was before the fast path: every line through JSON.parse, so the walk re-canonicalises and hashes it. */
function fullParse(text: string): ParsedExport {
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  const events = body.split("\n").filter((l) => l.trim() !== "").map((l, i) => {
    try {
      const e = JSON.parse(l) as StoredEvent;
      if (!Number.isSafeInteger(e.seq) || typeof e.hash !== "string" || typeof e.prevHash !== "string" || typeof e.tenant !== "string") {
        throw new Error("not a stored Trailkeeper event (needs tenant, seq, prevHash, hash)");
      }
      return e;
    } catch (err) {
      throw new UnusableInputError(`JSONL line ${i + 1}: ${(err as Error).message}`);
    }
  });
  return { format: "jsonl", events };
}

/** The report, or the message of the error that made the input unusable. */
const outcome = (run: () => OfflineReport): OfflineReport | string => {
  try {
    return run();
  } catch (err) {
    return `${(err as Error).constructor.name}: ${(err as Error).message}`;
  }
};

/** Each line re-hashed over its own text (canonical or not) and linked to the one before, the first to `prev`. */
function relink(lines: readonly string[], prev: string | undefined): string[] {
  return lines.map((l) => {
    const line = prev === undefined ? l : l.replace(/"prevHash":"[0-9a-f]{64}"/, `"prevHash":"${prev}"`);
    const cut = line.lastIndexOf(',"hash":');
    prev = createHash("sha256").update(`${line.slice(0, cut)}}`, "utf8").digest("hex");
    return `${line.slice(0, cut)},"hash":"${prev}"}`;
  });
}

/** A line edited and re-hashed over its own text, and the chain relinked after it: a forger's export. */
const forge = (lines: readonly string[], at: number, edit: (line: string) => string): string[] =>
  [...lines.slice(0, at), ...relink([edit(lines[at]!), ...lines.slice(at + 1)], undefined)];

describe("offline verification with the fast path reports exactly what the full parse reports", () => {
  const events = chain(40);
  const lines = events.map(lineOf);
  const text = (ls: readonly string[], eol = "\n") => ls.join(eol) + eol;

  const cases: [string, string, string | undefined][] = [
    ["an untouched export", text(lines), undefined],
    ["CRLF line ends, a BOM and blank lines", `\uFEFF${text(lines.slice(0, 20), "\r\n")}\n \n${text(lines.slice(20))}`, undefined],
    ["a changed details value", text(lines.map((l, i) => (i === 11 ? l.replace('"i":11', '"i":-1') : l))), "hash_mismatch"],
    ["two lines swapped", text([...lines.slice(0, 7), lines[8]!, lines[7]!, ...lines.slice(9)]), "gap"],
    ["a line deleted", text([...lines.slice(0, 14), ...lines.slice(15)]), "gap"],
    ["a line repeated", text([...lines.slice(0, 15), lines[14]!, ...lines.slice(15)]), "gap"],
    ["a line's content swapped with its neighbour's", text(lines.map((l, i) => (i === 8 ? l.replace('"u-8"', '"u-9"') : i === 9 ? l.replace('"u-9"', '"u-8"') : l))), "hash_mismatch"],
    ["a forged, relinked line in canonical form", text(forge(lines, 5, (l) => l.replace('"i":5', '"i":500'))), undefined],
    ["a forged, relinked line with its members reordered", text(forge(lines, 5, (l) => l.replace(/^\{"action":("[^"]*"),"actor":(\{[^}]*\}),/, '{"actor":$2,"action":$1,'))), "hash_mismatch"],
    ["a forged, relinked line with a space", text(forge(lines, 5, (l) => l.replace('"success",', '"success", '))), "hash_mismatch"],
    ["a forged, relinked line with a non-canonical number", text(forge(lines, 5, (l) => l.replace('"i":5', '"i":5.0'))), "hash_mismatch"],
    ["a forged, relinked line with details keys out of order", text(forge(lines, 5, (l) => l.replace('"nested":{"a":true,"b":', '"nested":{"b":').replace(',null]}', ',null],"a":true}'))), "hash_mismatch"],
    ["an invalid UTF-8 byte", undefined as unknown as string, "hash_mismatch"],
    ["a line that is not JSON", text([...lines.slice(0, 3), "{not json", ...lines.slice(3)]), undefined],
    ["a line without a seq", text([...lines.slice(0, 3), '{"hash":"x","prevHash":"y","tenant":"acme"}', ...lines.slice(3)]), undefined],
  ];
  // Invalid UTF-8 is decoded to U+FFFD by the full path; the fast path must not take a line hashed over the raw
  // bytes (a forger's choice), which the full path refuses.
  const raw = Buffer.from(Buffer.from(lines[4]!.replace("plain", "pl#in")).map((b) => (b === 0x23 ? 0xff : b)));
  const cut = raw.lastIndexOf(',"hash":');
  const rawHash = createHash("sha256").update(Buffer.concat([raw.subarray(0, cut), Buffer.from("}")])).digest("hex");
  const rest = relink(lines.slice(5), rawHash);
  const invalid = Buffer.concat([Buffer.from(text(lines.slice(0, 4))), raw.subarray(0, cut), Buffer.from(`,"hash":"${rawHash}"}\n`), Buffer.from(text(rest))]);

  it.each(cases)("%s", (name, input, reason) => {
    const bytes = name === "an invalid UTF-8 byte" ? invalid : Buffer.from(input, "utf8");
    const fast = outcome(() => verifyParsedExport(parseExport(bytes)));
    const full = outcome(() => verifyParsedExport(fullParse(bytes.toString("utf8"))));
    expect(fast).toEqual(full);
    if (typeof fast !== "string") expect(fast.failure?.reason).toBe(reason);
    if (name === "a line that is not JSON" || name === "a line without a seq") expect(fast).toMatch(/UnusableInputError: JSONL line 4/);
  });

  it("takes the fast path for the lines the server writes (else the speed would be the old one)", () => {
    const parsed = parseExport(Buffer.from(text(lines)));
    expect(parsed.events.every((e) => e instanceof HashCheckedEvent)).toBe(true);
    expect(parseExport(text(lines)).events.every((e) => e instanceof HashCheckedEvent)).toBe(true);
    // A line the fast path refuses still verifies through the full path.
    const spaced = parseExport(Buffer.from(text(lines.map((l, i) => (i === 3 ? ` ${l}` : l)))));
    expect(spaced.events.filter((e) => !(e instanceof HashCheckedEvent)).map((e) => e.seq)).toEqual([4]);
    expect(verifyParsedExport(spaced).exitCode).toBe(0);
  });
});

describe("a large export, its chunks shared with a worker thread", () => {
  // Event 16,000 has a line longer than a chunk (1 MiB); unusual and tampered lines and a run of blank lines longer
  // than a chunk's capacity for lines are spread through the file.
  const events = chain(21_000, (i) => (i === 16_000 ? 1_500_000 : 0));
  const lines = events.map(lineOf);
  lines[15_000] = lines[15_000]!.replace('"i":15000', '"i":-1');
  lines[12_000] = ` ${lines[12_000]!}\r`;
  lines[3_000] = ` ${lines[3_000]!}`;
  const bytes = sharedCopy(Buffer.from(`${lines.slice(0, 13_000).join("\n")}\n${"\n".repeat(10_000)}${lines.slice(13_000).join("\n")}\n`));
  const one = parseExport(bytes, { worker: false });
  const full = (l: string, n: number) => ({ line: l, n });
  const unusual = one.events.filter((e) => !(e instanceof HashCheckedEvent)).map((e) => e.seq);

  it("has the lines meant to test it", () => {
    expect(bytes.length).toBeGreaterThan(minParallelBytes);
    expect(availableParallelism()).toBeGreaterThanOrEqual(2);
    expect(unusual).toEqual([3_001, 12_001, 15_001]);
    expect(verifyParsedExport(one).failure).toMatchObject({ seq: 15_001, reason: "hash_mismatch" });
  });

  it.each([
    ["the worker checks every chunk", { workerOnly: true }],
    ["the threads claim chunks from both ends", { workerOnly: false }],
  ])("gives the events and the report one thread gives when %s", (_, opts) => {
    const expected = jsonlEvents(bytes, full);
    const two = jsonlEventsParallel(bytes, full, opts);
    expect(two).toEqual(expected);
    expect(two.map((e) => e instanceof HashCheckedEvent)).toEqual(expected.map((e) => e instanceof HashCheckedEvent));
    expect(verifyParsedExport(parseExport(bytes, { worker: true }))).toEqual(verifyParsedExport(one));
  }, 60_000);

  it("gives the same events with a worker started before the export was read (as trailkeeper verify does)", () => {
    prestartLineWorker();
    expect(jsonlEventsParallel(bytes, full)).toEqual(jsonlEvents(bytes, full));
  }, 60_000);

  it("puts each line in exactly one chunk: the one holding its first byte", () => {
    const text = Buffer.from("ab\n\ncdefghij\nk\n\nlmnopqrstuvwxyz0123\n4");
    const starts = [0, ...[...text.entries()].filter(([, b]) => b === 0x0a).map(([i]) => i + 1)].filter((i) => i < text.length);
    for (const size of [1, 2, 3, 5, 7, 16, 64]) {
      const chunks = Math.ceil(text.length / size);
      const bounds = Array.from({ length: chunks + 1 }, (_, i) => chunkStart(text, i, size));
      expect(bounds[0]).toBe(0);
      expect(bounds.at(-1)).toBe(text.length);
      for (const s of starts) {
        const owner = Math.floor(s / size);
        expect(s >= bounds[owner]! && s < bounds[owner + 1]!, `size ${size}, line at ${s}`).toBe(true);
      }
    }
  });
});

describe("an export from seq 1 with format 2 proof bundles", () => {
  const { privateKey } = generateKeyPairSync("ed25519");
  const signer = signerFromPrivateKey("example.org/log", privateKey);
  const verifier = parseVerifierKey(signer.vkey);
  const events = chain(700);
  const leaves = events.map((e) => leafHash(e.hash));
  const root = treeRoot(extendTree(emptyTree, leaves).tree).toString("hex");
  const checkpoint = { tenant: "acme", seq: 700, hash: events.at(-1)!.hash, time: "2026-01-02T04:00:00.000Z", root };
  const { note } = signCheckpoint("example.org/log", checkpoint, signer);
  const bundle = (seqs: number[], hashes = seqs.map((s) => events[s - 1]!.hash)) => JSON.stringify({
    format: "trailkeeper-proofs/2", tenant: "acme", treeSize: 700, checkpoint: { seq: 700, note }, seqs, hashes,
    nodes: multiProofRanges(seqs.map((s) => s - 1), 700).map(([lo, hi]) => treeRoot(extendTree(emptyTree, leaves.slice(lo, hi)).tree).toString("base64")),
  });
  const seqs = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
  const parsed = () => parseExport(Buffer.from(events.map(lineOf).join("\n")));

  it("hands the rebuilt tree, with its subtrees of 256 leaves and more, to the bundles' multi-proof check", () => {
    const tree = checkMerkleRoots(parsed().events, [checkpoint], new ChainVerifier());
    expect(tree?.size).toBe(700);
    const sub = extendTree(emptyTree, leaves.slice(256, 512)).tree;
    expect(Buffer.from(tree!.subtree(8, 1)!, "latin1")).toEqual(treeRoot(sub));
  });

  it("proves every event, and rejects a bundle whose hash differs from the export's inside a rebuilt subtree", () => {
    const proofBundles = [bundle(seqs(1, 300)), bundle(seqs(301, 700))];
    expect(verifyParsedExport(parsed(), { notes: [note], verifier, proofBundles })).toMatchObject({ exitCode: 0, proven: 700 });
    const hashes = seqs(301, 700).map((s) => events[s - 1]!.hash);
    hashes[400 - 301] = events[0]!.hash;
    const r = verifyParsedExport(parsed(), { notes: [note], verifier, proofBundles: [bundle(seqs(1, 300)), bundle(seqs(301, 700), hashes)] });
    // The bundle no longer leads to its signed root: none of its events is proven by it.
    expect(r).toMatchObject({ exitCode: 1, proven: 300, failure: { seq: 301, reason: "inclusion_proof_invalid" } });
  });
});
