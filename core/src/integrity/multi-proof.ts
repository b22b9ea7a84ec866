import { isHashText, leafHashBinary, nodeHashBinary, splitPoint, type LeafRange } from "./merkle.ts";

/**
 * A multi-proof (docs/integrity.md §6, proof bundle format 2): the inclusion of many leaves in one tree at once.
 * MTH(D[0:size]) is computed as RFC 6962 defines it, left subtree first; a subtree that holds none of the proven
 * leaves is not descended into but taken, in that order, from the proof's list of node hashes, and a proven leaf is
 * hashed from its data. For a contiguous run of leaves the list holds about 2·log2(size) hashes, and every leaf
 * costs about two hashes, where one RFC 6962 audit path per leaf holds log2(size).
 */

/**
 * The hash (Latin-1) of the subtree [lo, hi) whose leaves all are proven, the first being chain hash number `at`,
 * when the caller already knows it for exactly these leaves (say, from rebuilding the tree from an export holding
 * the same chain hashes); undefined to have it computed. Either way the result is the same: MTH of the same leaves.
 */
export type KnownSubtree = (lo: number, hi: number, at: number) => string | undefined;

/** Calls `empty` for each subtree without a proven leaf and `leaf` for each proven one, combining as MTH does. */
function walk<T>(indexes: readonly number[], size: number, empty: (range: LeafRange) => T, leaf: (i: number) => T, combine: (left: T, right: T) => T, whole?: (lo: number, hi: number, at: number) => T | undefined): T {
  let next = 0;
  const visit = (lo: number, hi: number): T => {
    // Indexes are ascending and the subtrees are visited left to right, so the next unvisited index is ≥ lo.
    if (next >= indexes.length || indexes[next]! >= hi) return empty([lo, hi]);
    if (hi - lo === 1) return leaf(next++);
    // Ascending and distinct: the first and the last leaf of [lo, hi) proven means all of them are.
    if (whole && indexes[next] === lo && indexes[next + hi - lo - 1] === hi - 1) {
      const known = whole(lo, hi, next);
      if (known !== undefined) {
        next += hi - lo;
        return known;
      }
    }
    const mid = lo + splitPoint(hi - lo);
    const left = visit(lo, mid);
    return combine(left, visit(mid, hi));
  };
  return visit(0, size);
}

/** Why leaf indexes cannot be proven in a tree of `size` leaves, or undefined: they must be ascending, distinct, below size. */
export function multiProofProblem(indexes: readonly number[], size: number): string | undefined {
  if (!Number.isSafeInteger(size) || size < 1) return `a tree of ${size} leaves holds no leaf to prove`;
  for (let i = 0; i < indexes.length; i++) {
    const x = indexes[i]!;
    if (!Number.isSafeInteger(x) || x < 0 || x >= size) return `leaf index ${x} is not in the tree of ${size} leaves`;
    if (i > 0 && x <= indexes[i - 1]!) return "the leaves are not in ascending order without repeats";
  }
  return undefined;
}

/** The subtrees whose hashes a multi-proof of these leaf indexes (ascending, distinct) carries, in order. */
export function multiProofRanges(indexes: readonly number[], size: number): LeafRange[] {
  const ranges: LeafRange[] = [];
  walk<void>(indexes, size, (r) => void ranges.push(r), () => undefined, () => undefined);
  return ranges;
}

/**
 * The root a multi-proof leads to: the leaves' data are the events' chain hashes (hex), `nodes` the proof's hashes
 * (base64, isHashText's one spelling). The root is hex; undefined when a hash or node is malformed or the list is
 * too short or too long. Hashes are computed on Latin-1 strings (leafHashBinary), the cheapest form.
 */
export function multiProofRoot(indexes: readonly number[], chainHashes: readonly string[], nodes: readonly string[], size: number, known?: KnownSubtree): string | undefined {
  if (multiProofProblem(indexes, size) !== undefined || chainHashes.length !== indexes.length) return undefined;
  let used = 0;
  const node = (): string | undefined => {
    const n = nodes[used++];
    return isHashText(n) ? Buffer.from(n, "base64").toString("latin1") : undefined;
  };
  const leaf = (i: number): string | undefined => {
    const h = chainHashes[i];
    if (typeof h !== "string" || h.length !== 64) return undefined;
    try {
      return leafHashBinary(h); // throws on a character that is not hex
    } catch {
      return undefined;
    }
  };
  const root = walk<string | undefined>(indexes, size, node, leaf, (l, r) => (l !== undefined && r !== undefined ? nodeHashBinary(l, r) : undefined), known);
  return root !== undefined && used === nodes.length ? Buffer.from(root, "latin1").toString("hex") : undefined;
}
