import { describe, expect, it } from "vitest";
import { consistencyRanges, emptyTree, extendTree, leafHash, nodeHash, treeRoot, verifyConsistency, verifyInclusion, inclusionRanges } from "./merkle.ts";
import { checkConsistency, consistencyPairs, findForks, mergeStates, witnessCheck, type WitnessedCheckpoint } from "./witness.ts";

// Leaves and a naive RFC 6962 MTH over ranges, independent of the stored-node reader, to build proofs here.
const hashes = Array.from({ length: 40 }, (_, i) => i.toString(16).padStart(64, "0"));
const leaves = hashes.map(leafHash);
const mth = (from: number, to: number, ls = leaves): Buffer => {
  if (to - from === 1) return ls[from]!;
  let k = 1;
  while (k * 2 < to - from) k *= 2;
  return nodeHash(mth(from, from + k, ls), mth(from + k, to, ls));
};
const rootOf = (n: number, ls = leaves) => treeRoot(extendTree(emptyTree, ls.slice(0, n)).tree).toString("hex");
const consistency = (from: number, to: number, ls = leaves) => consistencyRanges(from, to).map(([a, b]) => mth(a, b, ls));
const cp = (seq: number, name: string, ls = leaves): WitnessedCheckpoint =>
  ({ tenant: "acme", seq, hash: hashes[seq - 1]!, root: rootOf(seq, ls), time: `2026-01-01T00:00:${String(seq).padStart(2, "0")}.000Z`, names: [name] });

describe("witnessed checkpoints", () => {
  it("merges notes of one state and reports two states of one size as a fork, naming a note of each", () => {
    const forged = leaves.map((l, i) => (i === 3 ? leafHash("ff".repeat(32)) : l));
    const states = mergeStates([cp(10, "a.note"), cp(10, "copy/a.note"), cp(20, "b.note"), cp(20, "b2.note", forged), cp(5, "c.note")]);
    expect(states.map((s) => [s.seq, s.names])).toEqual([[5, ["c.note"]], [10, ["a.note", "copy/a.note"]], [20, ["b.note"]], [20, ["b2.note"]]]);
    expect(findForks(states)).toEqual([{ seq: 20, notes: ["b.note", "b2.note"] }]);
    // Both sides of the fork are linked to the size before, so the forged one is caught by its proof.
    expect(consistencyPairs(states).map(([a, b]) => [a.names[0], b.names[0]])).toEqual([["c.note", "a.note"], ["a.note", "b.note"], ["a.note", "b2.note"]]);
  });

  it("proves consecutive sizes by the export where it reaches, else by a proof checked against both witnessed roots", () => {
    const pairs = consistencyPairs([cp(5, "a"), cp(12, "b"), cp(33, "c"), cp(40, "d")]);
    const r = checkConsistency(pairs, 12, (from, to) => (to === 40 ? undefined : { proof: consistency(from, to) }));
    expect(r.consistent.map((c) => [c.from, c.to, c.by])).toEqual([[5, 12, "export"], [12, 33, "proof"]]);
    expect(r.unchecked).toEqual([{ from: 33, to: 40, notes: ["c", "d"] }]);
    expect(r.inconsistent).toEqual([]);
  });

  it("rejects a history rewritten below a witnessed size, a forged proof, a proof for another size, and a refusal", () => {
    const rewritten = leaves.map((l, i) => (i === 7 ? leafHash("ee".repeat(32)) : l));
    // The server signs its rewritten tree of 33 with the real key; its honest proof from 12 cannot reach it.
    const pairs = consistencyPairs([cp(12, "witnessed-12"), cp(33, "server-33", rewritten)]);
    const fromServer = checkConsistency(pairs, 0, (from, to) => ({ proof: consistency(from, to, rewritten) }));
    expect(fromServer.inconsistent).toHaveLength(1);
    expect(fromServer.inconsistent[0]!.message).toMatch(/server-33.*witnessed-12.*rewritten/);

    const honest = consistencyPairs([cp(12, "a"), cp(33, "b")]);
    const flipped = consistency(12, 33).map((h, i) => (i === 1 ? Buffer.from(h.map((x, j) => (j === 0 ? x ^ 1 : x))) : h));
    expect(checkConsistency(honest, 0, () => ({ proof: flipped })).inconsistent).toHaveLength(1);
    expect(checkConsistency(honest, 0, () => ({ proof: consistency(12, 34) })).inconsistent).toHaveLength(1);
    expect(checkConsistency(honest, 0, () => ({ error: "the server answered 400 invalid_tree_size" })).inconsistent[0]!.message).toMatch(/400 invalid_tree_size/);
    expect(checkConsistency(honest, 0, () => ({ proof: consistency(12, 33) })).consistent).toHaveLength(1);
  });

  it("does not take an inclusion or consistency proof for a size beyond the signed tree", () => {
    const root = Buffer.from(rootOf(20), "hex");
    const path = inclusionRanges(3, 21).map(([a, b]) => mth(a, b));
    expect(verifyInclusion(3, 20, leaves[3]!, inclusionRanges(3, 20).map(([a, b]) => mth(a, b)), root)).toBe(true);
    expect(verifyInclusion(3, 21, leaves[3]!, path, root)).toBe(false);
    expect(verifyInclusion(3, 20, leaves[3]!, path, root)).toBe(false);
    expect(verifyConsistency(10, 20, Buffer.from(rootOf(10), "hex"), root, consistency(10, 21))).toBe(false);
  });

  it("checks forks against the server's and the bundles' checkpoints too, but links only witnessed and bundle trees", () => {
    const rewritten = leaves.map((l, i) => (i === 2 ? leafHash("dd".repeat(32)) : l));
    const asked: [number, number][] = [];
    const w = witnessCheck({
      witnessed: [cp(10, "w10"), cp(30, "w30")], otherTenants: 2, notes: 2,
      fromServer: [cp(10, "server #1", rewritten), cp(20, "server #2")], fromBundles: [cp(40, "proof bundle 1")], coveredUpTo: 0,
      proofOf: (from, to) => {
        asked.push([from, to]);
        return { proof: consistency(from, to) };
      },
    });
    expect(w.forks).toEqual([{ seq: 10, notes: ["w10", "server #1"] }]);
    expect(asked).toEqual([[10, 30], [30, 40]]);
    expect(w).toMatchObject({ checkpoints: 2, otherTenants: 2, inconsistent: [], unchecked: [] });
  });
});

describe("fork detection across formats", () => {
  it("takes a chain-only and a Merkle checkpoint of the same chain head for one state, and a different head for a fork", () => {
    const merkle = cp(10, "merkle.note");
    const legacy: WitnessedCheckpoint = { tenant: "acme", seq: 10, hash: merkle.hash, time: merkle.time, names: ["legacy.note"] };
    expect(findForks(mergeStates([merkle, legacy]))).toEqual([]);
    const other: WitnessedCheckpoint = { ...legacy, hash: "ff".repeat(32), names: ["other.note"] };
    expect(findForks(mergeStates([merkle, legacy, other]))).toEqual([{ seq: 10, notes: ["merkle.note", "other.note"] }]);
  });
});
