import { describe, expect, it } from "vitest";
import { ownerOf } from "./assignment.ts";

const uids = Array.from({ length: 3000 }, (_, i) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, "0")}`);
const assign = (members: string[]) => new Map(uids.map((u) => [u, ownerOf(u, members)]));

describe("ownerOf (rendezvous hashing)", () => {
  it("gives every destination one owner among the members, the same whatever the members' order", () => {
    const members = ["op-a", "op-b", "op-c"];
    const a = assign(members);
    const b = assign([...members].reverse());
    for (const u of uids) {
      expect(members).toContain(a.get(u));
      expect(b.get(u)).toBe(a.get(u));
    }
    expect(ownerOf(uids[0]!, [])).toBeUndefined();
  });

  it("spreads destinations evenly over the members", () => {
    const members = ["op-a", "op-b", "op-c"];
    const counts = new Map<string, number>();
    for (const owner of assign(members).values()) counts.set(owner!, (counts.get(owner!) ?? 0) + 1);
    // 1000 each on average; a binomial spread of ±10% is far beyond chance at n = 3000.
    for (const m of members) {
      expect(counts.get(m)).toBeGreaterThan(900);
      expect(counts.get(m)).toBeLessThan(1100);
    }
  });

  it("moves only the lost member's destinations when a member leaves, spreading them over the others", () => {
    const before = assign(["op-a", "op-b", "op-c"]);
    const after = assign(["op-a", "op-c"]);
    const moved = uids.filter((u) => before.get(u) !== after.get(u));
    expect(moved.every((u) => before.get(u) === "op-b")).toBe(true);
    expect(moved.length).toBe(uids.filter((u) => before.get(u) === "op-b").length);
    const toA = moved.filter((u) => after.get(u) === "op-a").length;
    expect(toA / moved.length).toBeGreaterThan(0.4);
    expect(toA / moved.length).toBeLessThan(0.6);
  });

  it("moves to a new member only the destinations it wins, about a fair share", () => {
    const before = assign(["op-a", "op-b", "op-c"]);
    const after = assign(["op-a", "op-b", "op-c", "op-d"]);
    const moved = uids.filter((u) => before.get(u) !== after.get(u));
    expect(moved.every((u) => after.get(u) === "op-d")).toBe(true);
    expect(moved.length / uids.length).toBeGreaterThan(0.2);
    expect(moved.length / uids.length).toBeLessThan(0.3);
  });
});
