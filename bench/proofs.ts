/**
 * Inclusion-proof verification (issue 15: a full proof-carrying export verifies at ≥ 100,000 events/s). Builds an
 * RFC 6962 tree over BENCH_PROOF_EVENTS (default 1,000,000) leaves in memory, takes every leaf's audit path, and
 * times, in one run: each proof verified on its own (verifyInclusion, log2(n) hashes each), the same proofs through
 * one InclusionVerifier in seq order (a full export) and for every 20th event (a filtered export), with the proof
 * elements as base64 text as bundles carry them, and multi-proofs (bundle format 2) of 10,000 consecutive leaves,
 * beside the limit measured here, raw node hashes per second. Proof verification only: the chain walk of the same export is
 * measured by bench/search.ts ("verification"). `node bench/proofs.ts`.
 */
import { createHash } from "node:crypto";
import { loadavg } from "node:os";
import { InclusionVerifier, leafHash, nodeHash, verifyInclusion } from "../core/src/integrity/merkle.ts";
import { multiProofRanges, multiProofRoot } from "../core/src/integrity/multi-proof.ts";
import { fmtInt, intEnv, markdownTable, table } from "./lib/stats.ts";

const n = intEnv("BENCH_PROOF_EVENTS", 1_000_000);
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);

log(`building a tree of ${fmtInt(n)} leaves…`);
const levels: Buffer[][] = [Array.from({ length: n }, (_, i) => leafHash(createHash("sha256").update(`event ${i}`).digest("hex")))];
while (levels.at(-1)!.length > 1) {
  const below = levels.at(-1)!;
  const above: Buffer[] = [];
  // A last node without a sibling moves up unchanged: the RFC 6962 tree, built bottom-up.
  for (let i = 0; i < below.length; i += 2) above.push(i + 1 < below.length ? nodeHash(below[i]!, below[i + 1]!) : below[i]!);
  levels.push(above);
}
const root = levels.at(-1)![0]!;
const proofOf = (m: number): Buffer[] => {
  const proof: Buffer[] = [];
  for (let level = 0, i = m; level < levels.length - 1; level++, i >>= 1) {
    const sibling = levels[level]![i ^ 1];
    if (sibling !== undefined) proof.push(sibling);
  }
  return proof;
};
const proofs = Array.from({ length: n }, (_, m) => proofOf(m));
const leaves = levels[0]!;
// What a bundle holds: format 1 elements as base64 text, format 2 chain hashes and the multi-proof's nodes.
const proofTexts = proofs.map((p) => p.map((h) => h.toString("base64")));
const leafTexts = leaves.map((h) => h.toString("base64"));
const chainHashes = Array.from({ length: n }, (_, i) => createHash("sha256").update(`event ${i}`).digest("hex"));
const rootHex = root.toString("hex");
/** The hash of the leaves [lo, hi), from the levels built above. */
const rangeHash = (lo: number, hi: number): Buffer => {
  const parts: Buffer[] = [];
  for (let at = lo; at < hi; ) {
    let level = 0;
    while (at % 2 ** (level + 1) === 0 && at + 2 ** (level + 1) <= hi) level++;
    parts.push(levels[level]![at / 2 ** level]!);
    at += 2 ** level;
  }
  return parts.reduceRight((right, left) => nodeHash(left, right));
};
const chunk = 10_000;
const multiProofs = Array.from({ length: Math.ceil(n / chunk) }, (_, c) => {
  const indexes = Array.from({ length: Math.min(chunk, n - c * chunk) }, (_, i) => c * chunk + i);
  return { indexes, hashes: indexes.map((i) => chainHashes[i]!), nodes: multiProofRanges(indexes, n).map(([lo, hi]) => rangeHash(lo, hi).toString("base64")) };
});

const load = () => loadavg().map((l) => l.toFixed(2)).join(" ");

function rate(name: string, count: number, run: () => void): [string, string, string] {
  const before = load();
  const t0 = performance.now();
  run();
  const seconds = (performance.now() - t0) / 1000;
  log(`${name}: ${fmtInt(count / seconds)}/s (load ${before} → ${load()})`);
  return [name, fmtInt(count / seconds), `${before} → ${load()}`];
}

const hashes = Math.min(n, 2_000_000);
const rows = [
  rate("raw node hashes (SHA-256 of 65 bytes), the limit", hashes, () => {
    for (let i = 0; i < hashes; i++) nodeHash(leaves[i % n]!, leaves[(i + 1) % n]!);
  }),
  rate("each proof on its own (verifyInclusion), events", n, () => {
    for (let m = 0; m < n; m++) if (!verifyInclusion(m, n, leaves[m]!, proofs[m]!, root)) throw new Error(`proof ${m} failed`);
  }),
  rate("InclusionVerifier, every event in seq order (full export), events", n, () => {
    const v = new InclusionVerifier(n, root);
    for (let m = 0; m < n; m++) if (!v.verify(m, leafTexts[m]!, proofTexts[m]!)) throw new Error(`proof ${m} failed`);
  }),
  rate("InclusionVerifier, every 20th event (filtered export), events", Math.ceil(n / 20), () => {
    const v = new InclusionVerifier(n, root);
    for (let m = 0; m < n; m += 20) if (!v.verify(m, leafTexts[m]!, proofTexts[m]!)) throw new Error(`proof ${m} failed`);
  }),
  rate("multi-proofs of 10,000 consecutive events (bundle format 2), events", n, () => {
    for (const p of multiProofs) if (multiProofRoot(p.indexes, p.hashes, p.nodes, n) !== rootHex) throw new Error("multi-proof failed");
  }),
];
const header = ["inclusion proofs in a tree of " + fmtInt(n) + " leaves", "per second", "load average (1, 5, 15 min)"];
process.stdout.write(`\n${table(header, rows)}\n\nMarkdown for docs/performance.md:\n\n${markdownTable(header, rows)}\n`);
