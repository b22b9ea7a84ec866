import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { leafHash, nodeHash, emptyTreeRoot } from "./merkle.ts";
import { multiProofProblem, multiProofRanges, multiProofRoot } from "./multi-proof.ts";

const chainHashes = (n: number) => Array.from({ length: n }, (_, i) => createHash("sha256").update(`event ${i}`).digest("hex"));

/** RFC 6962 MTH of D[lo:hi], straight from the definition. */
function mth(hs: readonly string[], lo: number, hi: number): Buffer {
  if (hi - lo === 0) return emptyTreeRoot;
  if (hi - lo === 1) return leafHash(hs[lo]!);
  let k = 1;
  while (k * 2 < hi - lo) k *= 2;
  return nodeHash(mth(hs, lo, lo + k), mth(hs, lo + k, hi));
}

/** A multi-proof as a server builds it: the hashes of multiProofRanges, base64. */
const nodesFor = (hs: readonly string[], indexes: readonly number[], size: number) =>
  multiProofRanges(indexes, size).map(([lo, hi]) => mth(hs, lo, hi).toString("base64"));

describe("multi-proofs (proof bundle format 2)", () => {
  const hs = chainHashes(100);
  let seed = 3;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const subsets = (size: number): number[][] => {
    const all = Array.from({ length: size }, (_, i) => i);
    const start = rand(size);
    return [all, [0], [size - 1], all.slice(start, start + 1 + rand(size - start)), all.filter(() => rand(3) === 0), all.filter((i) => i % 20 === 0)]
      .filter((s) => s.length > 0);
  };

  it("leads to the tree's root for any set of leaves, with few nodes for a contiguous run", () => {
    for (const size of [1, 2, 3, 5, 8, 13, 64, 77, 100]) {
      const root = mth(hs, 0, size);
      for (const indexes of subsets(size)) {
        const nodes = nodesFor(hs, indexes, size);
        expect(multiProofRoot(indexes, indexes.map((i) => hs[i]!), nodes, size)).toBe(root.toString("hex"));
      }
      expect(nodesFor(hs, Array.from({ length: size }, (_, i) => i), size)).toEqual([]);
    }
    const run = Array.from({ length: 30 }, (_, i) => 40 + i);
    expect(nodesFor(hs, run, 100).length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(100)));
  });

  it("does not lead to the root when a hash, a seq or a node is changed, dropped, added or respelled", () => {
    for (const size of [2, 3, 13, 77, 100]) {
      const root = mth(hs, 0, size);
      for (const indexes of subsets(size)) {
        const leavesOf = (ix: readonly number[]) => ix.map((i) => hs[i]!);
        const nodes = nodesFor(hs, indexes, size);
        const tampered: [number[], string[], string[]][] = [];
        const otherHashes = leavesOf(indexes);
        otherHashes[rand(otherHashes.length)] = hs[(indexes[0]! + 1) % size] === otherHashes[0] ? hs[99]! : createHash("sha256").update("forged").digest("hex");
        tampered.push([indexes, otherHashes, nodes]);
        if (indexes.length < size) {
          // The same hashes claimed for other leaves.
          const shifted = indexes.map((i) => i + 1);
          if (shifted.at(-1)! < size) tampered.push([shifted, leavesOf(indexes), nodesFor(hs, shifted, size)]);
        }
        if (nodes.length > 0) {
          const at = rand(nodes.length);
          tampered.push([indexes, leavesOf(indexes), nodes.filter((_, i) => i !== at)]);
          tampered.push([indexes, leavesOf(indexes), nodes.map((n, i) => (i === at ? nodeHash(Buffer.from(n, "base64"), Buffer.from(n, "base64")).toString("base64") : n))]);
          tampered.push([indexes, leavesOf(indexes), nodes.map((n, i) => (i === at ? n.slice(0, -1) : n))]);
        }
        tampered.push([indexes, leavesOf(indexes), [...nodes, root.toString("base64")]]);
        for (const [ix, h, n] of tampered) {
          const r = multiProofRoot(ix, h, n, size);
          expect(r, `size ${size} ${JSON.stringify(ix)}`).not.toBe(root.toString("hex"));
        }
      }
    }
  });

  it("names leaves that are out of order, repeated or beyond the tree", () => {
    expect(multiProofProblem([0, 1, 2], 3)).toBeUndefined();
    expect(multiProofProblem([1, 0], 3)).toMatch(/ascending/);
    expect(multiProofProblem([1, 1], 3)).toMatch(/ascending/);
    expect(multiProofProblem([3], 3)).toMatch(/not in the tree/);
    expect(multiProofProblem([0], 0)).toMatch(/no leaf/);
    expect(multiProofRoot([1, 0], [hs[1]!, hs[0]!], [], 2)).toBeUndefined();
  });
});
