import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  consistencyRanges, decodeFrontier, decodeHash, emptyTree, emptyTreeRoot, encodeFrontier, extendTree, inclusionRanges, isStoredLevel, leafHash,
  InclusionVerifier, isHashText, leafHashBinary, leafHashText, nodeHashBinary, nodeHash, nodeHashText, RootBuilder, nodeKeyId, rangeHashes, treeRoot, verifyConsistency, verifyInclusion, type NodeKey, type NodeReader, type TreeNode,
} from "./merkle.ts";

const chainHash = (i: number) => createHash("sha256").update(`event ${i}`).digest("hex");
const leaves = (n: number) => Array.from({ length: n }, (_, i) => leafHash(chainHash(i)));

/** RFC 6962 MTH, straight from the definition. */
function mth(ls: readonly Buffer[]): Buffer {
  if (ls.length === 0) return emptyTreeRoot;
  if (ls.length === 1) return ls[0]!;
  let k = 1;
  while (k * 2 < ls.length) k *= 2;
  return nodeHash(mth(ls.slice(0, k)), mth(ls.slice(k)));
}

/** A reader over what the database would hold: leaves, and the stored nodes an incremental build wrote. */
function readerOf(ls: readonly Buffer[], stored: readonly TreeNode[]): NodeReader {
  const all = new Map<string, Buffer>([...ls.map((h, i) => [nodeKeyId({ level: 0, index: i }), h] as const), ...stored.map((n) => [nodeKeyId(n), n.hash] as const)]);
  return async (keys: readonly NodeKey[]) => new Map(keys.map((k) => [nodeKeyId(k), all.get(nodeKeyId(k))!]));
}

function build(n: number, batch: number): { ls: Buffer[]; stored: TreeNode[]; tree: typeof emptyTree } {
  const ls = leaves(n);
  let tree = emptyTree;
  const stored: TreeNode[] = [];
  for (let i = 0; i < n; i += batch) {
    const r = extendTree(tree, ls.slice(i, i + batch));
    tree = r.tree;
    stored.push(...r.completed);
  }
  return { ls, stored, tree };
}

describe("Merkle tree", () => {
  it("leaf and node hashes follow RFC 6962 (0x00 / 0x01 prefixes)", () => {
    const h = chainHash(1);
    expect(leafHash(h)).toEqual(createHash("sha256").update(Buffer.concat([Buffer.of(0), Buffer.from(h, "hex")])).digest());
    expect(treeRoot(emptyTree).toString("hex")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  it("keeps the root of the definition whatever the batch sizes, and stores every complete node at stored levels", () => {
    for (const [n, batch] of [[1, 1], [2, 1], [3, 2], [17, 5], [100, 7], [257, 64], [1000, 1000]] as const) {
      const { ls, stored, tree } = build(n, batch);
      expect(treeRoot(tree)).toEqual(mth(ls));
      expect(decodeFrontier(n, encodeFrontier(tree.frontier))).toEqual(tree);
      for (const node of stored) {
        expect(isStoredLevel(node.level)).toBe(true);
        expect(node.hash).toEqual(mth(ls.slice(node.index * 2 ** node.level, (node.index + 1) * 2 ** node.level)));
      }
      expect(stored.filter((s) => s.level === 4)).toHaveLength(Math.floor(n / 16));
    }
  });

  it("rejects a frontier that does not fit the size", () => {
    expect(() => decodeFrontier(3, Buffer.alloc(32))).toThrow(/cannot describe/);
  });

  it("serves inclusion proofs that verify for every leaf and size, and only for the right leaf, index and root", async () => {
    const { ls, stored } = build(40, 9);
    const read = readerOf(ls, stored);
    const roots = ls.map((_, i) => mth(ls.slice(0, i + 1)));
    for (let size = 1; size <= ls.length; size++) {
      const root = roots[size - 1]!;
      for (let m = 0; m < size; m++) {
        const proof = await rangeHashes(inclusionRanges(m, size), read);
        expect(verifyInclusion(m, size, ls[m]!, proof, root)).toBe(true);
        if (size > 1) {
          expect(verifyInclusion(m, size, ls[(m + 1) % size]!, proof, root)).toBe(false);
          expect(verifyInclusion((m + 1) % size, size, ls[m]!, proof, root)).toBe(false);
          if (proof.length >= 2) expect(verifyInclusion(m, size, ls[m]!, [proof[1]!, proof[0]!, ...proof.slice(2)], root)).toBe(false);
        }
        if (size < ls.length) expect(verifyInclusion(m, size + 1, ls[m]!, proof, roots[size]!)).toBe(false);
      }
    }
  });

  it("serves consistency proofs that verify between all sizes, and reject a forked root", async () => {
    const { ls, stored } = build(40, 13);
    const read = readerOf(ls, stored);
    const roots = ls.map((_, i) => mth(ls.slice(0, i + 1)));
    for (let to = 1; to <= ls.length; to++) {
      const toRoot = roots[to - 1]!;
      for (let from = 1; from <= to; from++) {
        const fromRoot = roots[from - 1]!;
        const proof = await rangeHashes(consistencyRanges(from, to), read);
        expect(verifyConsistency(from, to, fromRoot, toRoot, proof)).toBe(true);
        const forked = mth([...ls.slice(0, from - 1), leafHash(chainHash(-1))]);
        expect(verifyConsistency(from, to, forked, toRoot, proof)).toBe(false);
      }
    }
  });

  it("computes nodes above the leaves from stored levels only", async () => {
    const { ls, stored } = build(4096, 500);
    const reads: NodeKey[] = [];
    const inner = readerOf(ls, stored);
    const proof = await rangeHashes(inclusionRanges(1234, 4000), (keys) => (reads.push(...keys), inner(keys)));
    expect(verifyInclusion(1234, 4000, ls[1234]!, proof, mth(ls.slice(0, 4000)))).toBe(true);
    expect(reads.every((k) => k.level === 0 || isStoredLevel(k.level))).toBe(true);
    expect(reads.length).toBeLessThan(100);
  });
});

describe("InclusionVerifier (many proofs in one tree)", () => {
  /** Audit path of leaf m in the tree of the first `size` leaves, from the definition (RFC 6962 PATH). */
  function path(m: number, ls: readonly Buffer[]): Buffer[] {
    if (ls.length <= 1) return [];
    let k = 1;
    while (k * 2 < ls.length) k *= 2;
    return m < k ? [...path(m, ls.slice(0, k)), mth(ls.slice(k))] : [...path(m - k, ls.slice(k)), mth(ls.slice(0, k))];
  }

  it("accepts exactly what verifyInclusion accepts, in any order, with a warm and a tiny cache", () => {
    const ls = leaves(77);
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (const size of [1, 2, 3, 5, 8, 13, 64, 77]) {
      const root = mth(ls.slice(0, size));
      for (const max of [1, 4096]) {
        const v = new InclusionVerifier(size, root, max);
        for (let round = 0; round < 400; round++) {
          const m = round < size ? round : rand(size);
          let index = m;
          let leaf = ls[m]!;
          let proof = path(m, ls.slice(0, size));
          // Tamper one way in three rounds out of four: another leaf, another index, a changed, dropped or extra element.
          switch (round % 8) {
            case 1: leaf = ls[(m + 1) % ls.length]!; break;
            case 3: index = (m + 1) % (size + 1); break;
            case 5: if (proof.length) proof = proof.map((p, i) => (i === rand(proof.length) ? nodeHash(p, p) : p)); break;
            case 6: proof = proof.slice(0, -1); break;
            case 7: proof = [...proof, root]; break;
          }
          expect(v.verify(index, leaf, proof), `size ${size} max ${max} round ${round}`).toBe(verifyInclusion(index, size, leaf, proof, root));
        }
      }
    }
  });

  it("takes proofs as base64 text, accepting only the one spelling Buffer writes (as text equality presumes)", () => {
    const ls = leaves(77);
    let seed = 11;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    // Other spellings Node's decoder maps to the same 32 bytes: URL-safe letters, no padding, stray low bits.
    const respell = (t: string) => (/[+/]/.test(t) ? t.replace("+", "-").replace("/", "_") : round2(t));
    const round2 = (t: string) => (rand(2) ? t.slice(0, -1) : `${t.slice(0, 42)}${String.fromCharCode(t.charCodeAt(42) + 1)}=`);
    for (const size of [2, 5, 13, 77]) {
      const root = mth(ls.slice(0, size));
      for (const max of [1, 4096]) {
        const v = new InclusionVerifier(size, root, max);
        for (let round = 0; round < 300; round++) {
          const m = round < size ? round : rand(size);
          const proof = path(m, ls.slice(0, size)).map((p) => p.toString("base64"));
          if (round % 4 === 1 && proof.length > 0) {
            const at = rand(proof.length);
            proof[at] = respell(proof[at]!);
          } else if (round % 4 === 3 && proof.length > 0) {
            proof[rand(proof.length)] = Buffer.alloc(33, 7).toString("base64");
          }
          // The reference spelling check, written out: what Buffer writes for 32 bytes, and nothing else.
          const decoded = proof.map((t) => (Buffer.from(t, "base64").length === 32 && Buffer.from(t, "base64").toString("base64") === t ? Buffer.from(t, "base64") : undefined));
          const expected = decoded.every((d) => d !== undefined) && verifyInclusion(m, size, ls[m]!, decoded as Buffer[], root);
          expect(v.verify(m, ls[m]!, proof), `size ${size} max ${max} round ${round}`).toBe(expected);
          if (round % 4 === 0) expect(expected).toBe(true);
        }
      }
    }
  });
});

describe("hashing on text (the verifier's side)", () => {
  it("gives the same hashes as on Buffers, and RootBuilder the roots of every size", () => {
    const ls = leaves(70);
    const b = new RootBuilder();
    expect(b.root()).toBe(emptyTreeRoot.toString("hex"));
    for (let i = 0; i < 70; i++) {
      expect(leafHashText(chainHash(i))).toBe(ls[i]!.toString("base64"));
      expect(leafHashBinary(chainHash(i))).toBe(ls[i]!.toString("latin1"));
      b.append(leafHashBinary(chainHash(i)));
      expect(b.root(), `size ${i + 1}`).toBe(mth(ls.slice(0, i + 1)).toString("hex"));
    }
    expect(nodeHashBinary(ls[0]!.toString("latin1"), ls[1]!.toString("latin1"))).toBe(nodeHash(ls[0]!, ls[1]!).toString("latin1"));
    expect(nodeHashText(ls[0]!.toString("base64"), ls[1]!.toString("base64"))).toBe(nodeHash(ls[0]!, ls[1]!).toString("base64"));
    expect(isHashText(ls[0]!.toString("base64"))).toBe(true);
    expect(isHashText(ls[0]!.toString("base64url"))).toBe(false);
  });
});

describe("decodeHash", () => {
  it("accepts only standard padded base64 of 32 bytes, as Buffer writes it", () => {
    const h = createHash("sha256").update("x").digest();
    const t = h.toString("base64");
    expect(decodeHash(t)).toEqual(h);
    expect(Buffer.from(t.slice(0, -1), "base64")).toEqual(h);
    expect(decodeHash(t.slice(0, -1))).toBeUndefined();
    expect(decodeHash(t.replace(/[+/]/g, (c) => (c === "+" ? "-" : "_")) + (/[+/]/.test(t) ? "" : "x"))).toBeUndefined();
    expect(decodeHash(`${t.slice(0, 42)}${String.fromCharCode(t.charCodeAt(42) + 1)}=`)).toBeUndefined();
    expect(decodeHash(Buffer.alloc(33).toString("base64"))).toBeUndefined();
    expect(decodeHash(Buffer.alloc(31).toString("base64"))).toBeUndefined();
  });

  it("makes verifyInclusion refuse elements that are not 32 bytes, which nodeHash would copy without complaint", () => {
    const ls = leaves(2);
    const root = mth(ls);
    expect(verifyInclusion(0, 2, ls[0]!, [ls[1]!], root)).toBe(true);
    expect(verifyInclusion(0, 2, ls[0]!, [Buffer.concat([ls[1]!, Buffer.from([9])])], root)).toBe(false);
  });
});
