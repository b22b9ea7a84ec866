import { createHash, hash } from "node:crypto";

/**
 * A tenant's Merkle tree (RFC 6962 / RFC 9162 hashing) over its events' chain hashes in seq order: leaf i
 * (0-based) is the event with seq i + 1. See docs/integrity.md §5 and docs/adr/0006-merkle-tree.md.
 */

export const hashSize = 32;

/**
 * The tree as an appender needs it: `size` leaves and the roots of the complete subtrees that make them up,
 * left (largest) to right, one per set bit of `size`.
 */
export interface TreeState {
  size: number;
  frontier: Buffer[];
}

/** A complete subtree: the 2^level leaves from index × 2^level. */
export interface NodeKey {
  level: number;
  index: number;
}

export interface TreeNode extends NodeKey {
  hash: Buffer;
}

/** A half-open range of leaves [from, to): a node of the RFC 6962 tree whose hash a proof carries. */
export type LeafRange = readonly [from: number, to: number];

export const emptyTree: TreeState = { size: 0, frontier: [] };

/** MTH of the empty tree: SHA-256 of nothing. */
export const emptyTreeRoot = createHash("sha256").digest();

/** Interior nodes are stored every this many levels; the levels between are recomputed (at most 2^3 reads each). */
export const storedLevelStride = 4;

export const isStoredLevel = (level: number): boolean => level > 0 && level % storedLevelStride === 0;

// Hashing runs on the ingest path: one-shot hashes of reused input buffers cost half of createHash()'s.
const leafInput = Buffer.alloc(1 + hashSize);
const nodeInput = Buffer.alloc(1 + 2 * hashSize, 1);

/** Leaf hash: SHA-256(0x00 ‖ the 32 bytes of the event's chain hash). */
export function leafHash(chainHashHex: string): Buffer {
  if (leafInput.write(chainHashHex, 1, "hex") !== hashSize) throw new Error(`not a SHA-256 hash: ${chainHashHex}`);
  return hash("sha256", leafInput, "buffer");
}

/** Interior node hash: SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Buffer, right: Buffer): Buffer {
  left.copy(nodeInput, 1);
  right.copy(nodeInput, 1 + hashSize);
  return hash("sha256", nodeInput, "buffer");
}

/** A leaf or node digest written as text in `encoding`: the same bytes as leafHash and nodeHash. */
function leafDigest(chainHashHex: string, encoding: "base64" | "binary"): string {
  if (leafInput.write(chainHashHex, 1, "hex") !== hashSize) throw new Error(`not a SHA-256 hash: ${chainHashHex}`);
  return hash("sha256", leafInput, encoding);
}

function nodeDigest(left: string, right: string, encoding: "base64" | "binary"): string {
  nodeInput.write(left, 1, encoding);
  nodeInput.write(right, 1 + hashSize, encoding);
  return hash("sha256", nodeInput, encoding);
}

/**
 * The same hashes on base64 text (hashText's spelling), for verifiers that hash once per event: a digest returned
 * as a string costs about a third of one returned as a new Buffer, and text compares with proof elements as is.
 * Inputs must have passed isHashText (or come from these functions).
 */
export const leafHashText = (chainHashHex: string): string => leafDigest(chainHashHex, "base64");
export const nodeHashText = (left: string, right: string): string => nodeDigest(left, right, "base64");

/**
 * The same hashes as 32-character Latin-1 strings (one character per byte), the cheapest form to hash again: for a
 * verifier that rebuilds whole trees (RootBuilder, multi-proofs) and compares only roots.
 */
export const leafHashBinary = (chainHashHex: string): string => leafDigest(chainHashHex, "binary");
export const nodeHashBinary = (left: string, right: string): string => nodeDigest(left, right, "binary");

/** leafHashBinary of a chain hash given as its 32 bytes in a Latin-1 string (no hex to decode). */
export function leafHashOfBinary(chainHash: string): string {
  leafInput.write(chainHash, 1, "latin1");
  return hash("sha256", leafInput, "binary");
}

/** Standard padded base64 of 32 bytes as Buffer writes it: 42 letters, one whose two low bits are zero, and `=`. */
const hashText = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/** Whether `text` is a hash in the one spelling Buffer writes (two texts are then the same hash exactly when equal). */
export const isHashText = (text: unknown): text is string => typeof text === "string" && hashText.test(text);

const pow2 = (level: number) => 2 ** level;
const half = (n: number) => Math.floor(n / 2);
const isOdd = (n: number) => n % 2 === 1;

/**
 * Appends leaf hashes, returning the new state and the complete subtrees at stored levels that the append
 * completed (each leaf completes one subtree per trailing zero bit of the new size).
 */
export function extendTree(tree: TreeState, leaves: readonly Buffer[]): { tree: TreeState; completed: TreeNode[] } {
  const frontier = [...tree.frontier];
  const completed: TreeNode[] = [];
  let size = tree.size;
  for (const leaf of leaves) {
    size += 1;
    let hash = leaf;
    for (let level = 1; size % pow2(level) === 0; level++) {
      hash = nodeHash(frontier.pop()!, hash);
      if (isStoredLevel(level)) completed.push({ level, index: size / pow2(level) - 1, hash });
    }
    frontier.push(hash);
  }
  return { tree: { size, frontier }, completed };
}

/** The Merkle tree hash (root) of the state. */
export function treeRoot(tree: TreeState): Buffer {
  if (tree.size === 0) return emptyTreeRoot;
  return tree.frontier.reduceRight((right, left) => nodeHash(left, right));
}

export function encodeFrontier(frontier: readonly Buffer[]): Buffer {
  return Buffer.concat(frontier);
}

export function decodeFrontier(size: number, bytes: Buffer): TreeState {
  const frontier: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += hashSize) frontier.push(bytes.subarray(i, i + hashSize));
  if (frontier.length !== popCount(size)) throw new Error(`a Merkle frontier of ${frontier.length} hashes cannot describe a tree of ${size} leaves`);
  return { size, frontier };
}

function popCount(n: number): number {
  let count = 0;
  for (let x = n; x > 0; x = half(x)) count += x % 2;
  return count;
}

/** Largest power of two strictly below n (n ≥ 2): where RFC 6962's MTH splits a tree of n leaves. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** RFC 6962 PATH(m, D[lo:hi]): the ranges whose hashes prove leaf m, leaf to root. */
export function inclusionRanges(leaf: number, size: number): LeafRange[] {
  const path = (lo: number, hi: number): LeafRange[] => {
    if (hi - lo === 1) return [];
    const mid = lo + splitPoint(hi - lo);
    return leaf < mid ? [...path(lo, mid), [mid, hi]] : [...path(mid, hi), [lo, mid]];
  };
  return path(0, size);
}

/** RFC 6962 PROOF(m, D[n]) via SUBPROOF: the ranges whose hashes prove the tree of `from` leaves a prefix of `to`. */
export function consistencyRanges(from: number, to: number): LeafRange[] {
  const sub = (lo: number, hi: number, whole: boolean): LeafRange[] => {
    if (from === hi) return whole ? [] : [[lo, hi]];
    const mid = lo + splitPoint(hi - lo);
    return from <= mid ? [...sub(lo, mid, whole), [mid, hi]] : [...sub(mid, hi, false), [lo, mid]];
  };
  return from === to ? [] : sub(0, to, true);
}

/** The complete subtrees of a range, largest first; its hash is their right fold (RFC 6962 MTH). */
export function rangeSubtrees([from, to]: LeafRange): NodeKey[] {
  const parts: NodeKey[] = [];
  let at = from;
  while (at < to) {
    let level = 0;
    while (at % pow2(level + 1) === 0 && at + pow2(level + 1) <= to) level++;
    parts.push({ level, index: at / pow2(level) });
    at += pow2(level);
  }
  return parts;
}

/** The stored nodes (or, at level 0, leaves) a subtree's hash is computed from. */
export function subtreeBasis(key: NodeKey): NodeKey[] {
  const base = key.level - (key.level % storedLevelStride);
  const count = pow2(key.level - base);
  return Array.from({ length: count }, (_, i) => ({ level: base, index: key.index * count + i }));
}

export const nodeKeyId = (k: NodeKey) => `${k.level}/${k.index}`;

/** Reads stored nodes and leaf hashes (level 0) by key id; a missing key is an error of the reader's. */
export type NodeReader = (keys: readonly NodeKey[]) => Promise<ReadonlyMap<string, Buffer>>;

/** The hashes of the given ranges, with one read of every node they need. */
export async function rangeHashes(ranges: readonly LeafRange[], read: NodeReader): Promise<Buffer[]> {
  const subtrees = ranges.map(rangeSubtrees);
  const needed = new Map<string, NodeKey>();
  for (const k of subtrees.flat().flatMap(subtreeBasis)) needed.set(nodeKeyId(k), k);
  const known = new Map(await read([...needed.values()]));
  const hashOf = (k: NodeKey): Buffer => {
    const id = nodeKeyId(k);
    let h = known.get(id);
    if (!h) {
      if (k.level === 0 || isStoredLevel(k.level)) throw new Error(`Merkle node ${id} is missing`);
      h = nodeHash(hashOf({ level: k.level - 1, index: k.index * 2 }), hashOf({ level: k.level - 1, index: k.index * 2 + 1 }));
      known.set(id, h);
    }
    return h;
  };
  return subtrees.map((parts) => parts.map(hashOf).reduceRight((right, left) => nodeHash(left, right)));
}

/** RFC 9162 §2.1.3.2: does `proof` show `leaf` at `index` in the tree of `size` leaves with root `root`? */
export function verifyInclusion(index: number, size: number, leaf: Buffer, proof: readonly Buffer[], root: Buffer): boolean {
  if (!(index >= 0 && index < size)) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    // nodeHash would copy a shorter or longer element without complaint; a proof element is one SHA-256 hash.
    if (sn === 0 || p.length !== hashSize) return false;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      while (!isOdd(fn) && fn !== 0) [fn, sn] = [half(fn), half(sn)];
    } else {
      r = nodeHash(r, p);
    }
    [fn, sn] = [half(fn), half(sn)];
  }
  return sn === 0 && r.equals(root);
}

/** RFC 9162 §2.1.4.2: does `proof` show the tree (`from`, `fromRoot`) a prefix of (`to`, `toRoot`)? */
export function verifyConsistency(from: number, to: number, fromRoot: Buffer, toRoot: Buffer, proof: readonly Buffer[]): boolean {
  if (!(from >= 1 && from <= to)) return false;
  if (from === to) return proof.length === 0 && fromRoot.equals(toRoot);
  if (proof.length === 0) return false;
  // A power-of-two old tree is a node of the new one, so its root is the proof's implicit first hash.
  const path = Number.isInteger(Math.log2(from)) ? [fromRoot, ...proof] : [...proof];
  let fn = from - 1;
  let sn = to - 1;
  while (isOdd(fn)) [fn, sn] = [half(fn), half(sn)];
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!isOdd(fn) && fn !== 0) [fn, sn] = [half(fn), half(sn)];
    } else {
      sr = nodeHash(sr, c);
    }
    [fn, sn] = [half(fn), half(sn)];
  }
  return fr.equals(fromRoot) && sr.equals(toRoot) && sn === 0;
}

/**
 * A proof element as the bundles carry it: the standard base64 of 32 bytes, exactly as Buffer writes it (44
 * characters), or undefined. Only that one spelling is accepted, so that two elements are the same hash exactly
 * when their texts are equal (Node's decoder would also take URL-safe letters, missing padding and stray bits).
 */
export function decodeHash(text: string): Buffer | undefined {
  return isHashText(text) ? Buffer.from(text, "base64") : undefined;
}

/**
 * verifyInclusion for many proofs in one signed tree, as a proof-carrying export needs: every node and sibling of a
 * proof that verified is remembered (bounded, oldest first out), and a later proof stops hashing at the first node it
 * shares with them — about two hashes per event for consecutive events instead of log2(size). Nodes are kept per
 * level, each level's oldest first out, so the few nodes near the root that every proof shares are never pushed out
 * by the many near the leaves. Proofs are taken as base64 text (decodeHash) and nodes remembered as text: an
 * element above the shared node is compared as text and never decoded, only the one or two that are hashed are.
 * The shortcut accepts a proof only when its computed node equals the remembered one and each of its remaining
 * elements equals the remembered sibling at its place; in every other case the proof is verified in full, so it
 * accepts exactly the proofs verifyInclusion accepts with the elements decoded (short of a SHA-256 collision).
 */
export class InclusionVerifier {
  readonly #size: number;
  readonly #root: string;
  readonly #maxPerLevel: number;
  /** Authenticated nodes by level, then index, as decodeHash's text: a node of the tree of `size` leaves has one hash. */
  readonly #known: Map<number, string>[] = [];

  constructor(size: number, root: Buffer, maxNodesPerLevel = 4096) {
    this.#size = size;
    this.#root = root.toString("base64");
    this.#maxPerLevel = maxNodesPerLevel;
  }

  /** Whether `proof` (elements as Buffers or base64 text) shows `leaf` at `index` in the signed tree. */
  verify(index: number, leaf: Buffer | string, proof: readonly (Buffer | string)[]): boolean {
    if (!(index >= 0 && index < this.#size)) return false;
    const texts = proof.map((p) => (typeof p === "string" ? p : p.toString("base64")));
    const leafText = typeof leaf === "string" ? leaf : leaf.toString("base64");
    return this.#walk(index, leafText, texts, true) || this.#walk(index, leafText, texts, false);
  }

  /** Walks the path as RFC 9162 §2.1.3.2 does, tracking each node's (level, index); with `shortcut`, stops at a known node. */
  #walk(index: number, leaf: string, proof: readonly string[], shortcut: boolean): boolean {
    // (level, index, text) triples, flat: this runs once per event of an export.
    const seen: (number | string)[] = [];
    let fn = index;
    let sn = this.#size - 1;
    let level = 0;
    let r: string | undefined = leaf;
    for (const p of proof) {
      if (sn === 0) return false;
      // A rightmost node without a sibling moves up unchanged until it is a right child; p is then its left sibling.
      const left = fn % 2 === 1 || fn === sn;
      if (left) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
          level++;
        }
      }
      const sibling = left ? fn - 1 : fn + 1;
      if (r === undefined) {
        // Above a known node: the rest of the proof must be the known siblings.
        if (this.#known[level]?.get(sibling) !== p) return false;
      } else {
        if (!isHashText(p)) return false;
        seen.push(level, sibling, p);
        r = left ? nodeHashText(p, r) : nodeHashText(r, p);
      }
      fn = half(fn);
      sn = half(sn);
      level++;
      if (r !== undefined) {
        const met = this.#meet(level, fn, r, shortcut);
        if (met === "conflict") return false;
        if (met === "known") r = undefined;
        else seen.push(level, fn, met);
      }
    }
    if (sn !== 0 || (r !== undefined && r !== this.#root)) return false;
    for (let i = 0; i < seen.length; i += 3) this.#remember(seen[i] as number, seen[i + 1] as number, seen[i + 2] as string);
    return true;
  }

  /** Whether the computed node (level, index) is a known one (with this hash, or, a conflict, another); else its text. */
  #meet(level: number, index: number, text: string, shortcut: boolean): "known" | "conflict" | string {
    const known = shortcut ? this.#known[level]?.get(index) : undefined;
    return known === undefined ? text : known === text ? "known" : "conflict";
  }

  #remember(level: number, index: number, text: string): void {
    const nodes = (this.#known[level] ??= new Map());
    if (nodes.has(index)) return;
    if (nodes.size >= this.#maxPerLevel) nodes.delete(nodes.keys().next().value!);
    nodes.set(index, text);
  }
}

/**
 * The roots of a tree built leaf by leaf (RFC 6962 MTH, as extendTree and treeRoot compute them), on Latin-1 hashes
 * (leafHashBinary): what an offline verifier needs to compare the roots signed at many sizes with the export's leaves.
 */
export class RootBuilder {
  size = 0;
  /** Roots of the complete subtrees, left (largest) to right, one per set bit of size. */
  readonly #frontier: string[] = [];
  readonly #keepFrom: number;
  /** Complete subtrees of at least 2^keepFrom leaves, by level then index, for a multi-proof check to reuse. */
  readonly #kept: Map<number, string>[] = [];

  /** `keepFromLevel`: keep the hashes of the complete subtrees of that level and above (subtree()). */
  constructor(keepFromLevel = Infinity) {
    this.#keepFrom = keepFromLevel;
  }

  append(leafBinary: string): void {
    this.size += 1;
    let h = leafBinary;
    let level = 0;
    for (let s = this.size; s % 2 === 0; s /= 2) {
      h = nodeHashBinary(this.#frontier.pop()!, h);
      level += 1;
      if (level >= this.#keepFrom) (this.#kept[level] ??= new Map()).set(this.size / pow2(level) - 1, h);
    }
    this.#frontier.push(h);
  }

  /** The hash (Latin-1) of the complete subtree of 2^level leaves from index × 2^level, if it was kept. */
  subtree(level: number, index: number): string | undefined {
    return this.#kept[level]?.get(index);
  }

  /** The root, hex. */
  root(): string {
    if (this.size === 0) return emptyTreeRoot.toString("hex");
    return Buffer.from(this.#frontier.reduceRight((right, left) => nodeHashBinary(left, right)), "latin1").toString("hex");
  }
}
