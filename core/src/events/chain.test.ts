import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "./canonical.ts";
import { checkLink, eventHash, extendChain, genesisHash } from "./chain.ts";
import type { StoredEvent } from "./model.ts";

interface Vector {
  event: StoredEvent;
  canonical: string;
}

/** Committed once and never regenerated: a change here means the hash format changed. */
const vectors = JSON.parse(readFileSync(path.join(import.meta.dirname, "testdata/golden-vectors.json"), "utf8")) as Vector[];

describe("golden vectors", () => {
  it("has a chain of several events from genesis", () => {
    expect(vectors.length).toBeGreaterThanOrEqual(4);
    expect(vectors[0]!.event.prevHash).toBe(genesisHash);
  });

  it.each(vectors.map((v, i) => [i, v] as const))("vector %i: canonical form and SHA-256 are unchanged", (_i, v) => {
    const { hash, ...unhashed } = v.event;
    expect(canonicalJson(unhashed)).toBe(v.canonical);
    expect(createHash("sha256").update(v.canonical, "utf8").digest("hex")).toBe(hash);
    expect(eventHash(v.event)).toBe(hash);
  });

  it("links each vector to the previous one", () => {
    let head = { seq: 0, hash: genesisHash };
    for (const v of vectors) {
      expect(checkLink(head, v.event)).toBeUndefined();
      head = { seq: v.event.seq, hash: v.event.hash };
    }
  });
});

describe("extendChain and checkLink", () => {
  const pending = vectors.map(({ event: { seq: _s, prevHash: _p, hash: _h, ...rest } }) => rest);

  it("reproduces the golden chain from its pending events", () => {
    const { events, head } = extendChain({ seq: 0, hash: genesisHash }, pending);
    expect(events).toEqual(vectors.map((v) => v.event));
    expect(head).toEqual({ seq: vectors.length, hash: vectors.at(-1)!.event.hash });
  });

  it("names the fault: edited content, broken link, gap", () => {
    const [a, b] = [vectors[0]!.event, vectors[1]!.event];
    const head0 = { seq: 0, hash: genesisHash };
    expect(checkLink(head0, { ...a, outcome: "failure" })?.kind).toBe("hash_mismatch");
    const relinked = { ...b, prevHash: "f".repeat(64) };
    expect(checkLink({ seq: 1, hash: a.hash }, { ...relinked, hash: eventHash(relinked) })?.kind).toBe("broken_link");
    expect(checkLink(head0, b)?.kind).toBe("gap");
  });
});
