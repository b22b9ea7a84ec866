import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "./canonical.ts";
import { canonicalEventJson } from "./canonical-event.ts";
import type { StoredEvent } from "./model.ts";

const vectors = JSON.parse(readFileSync(path.join(import.meta.dirname, "testdata/golden-vectors.json"), "utf8")) as { event: StoredEvent }[];
const unhashed = ({ hash: _h, ...rest }: StoredEvent) => rest;

describe("canonicalEventJson", () => {
  it("equals the generic JCS form for every golden vector", () => {
    for (const v of vectors) expect(canonicalEventJson(unhashed(v.event))).toBe(canonicalJson(unhashed(v.event)));
  });

  it("equals the generic form for every combination of optional members", () => {
    const full = unhashed(vectors[1]!.event);
    const optional = ["clientIp", "userAgent", "details", "sessionId", "requestId"] as const;
    for (let mask = 0; mask < 1 << optional.length; mask++) {
      const e: Record<string, unknown> = { ...full, clientIp: "::1", userAgent: "ua \"quoted\"", sessionId: "s", requestId: "r", actor: { id: "a", type: "user" }, resource: { id: "r", type: "t", name: "n" } };
      optional.forEach((k, i) => mask & (1 << i) && delete e[k]);
      expect(canonicalEventJson(e as never)).toBe(canonicalJson(e));
    }
  });

  it("leaves a hash member out, on the fast path and on the generic one", () => {
    for (const v of vectors) expect(canonicalEventJson(v.event)).toBe(canonicalJson(unhashed(v.event)));
    const odd = { ...vectors[0]!.event, extra: 1 };
    expect(canonicalEventJson(odd)).toBe(canonicalJson(unhashed(odd)));
    expect(canonicalEventJson(odd)).not.toContain('"hash"');
  });

  it("falls back to the generic form when an unknown member is present, so it changes the hash", () => {
    const e = { ...unhashed(vectors[0]!.event), extra: 1 };
    expect(canonicalEventJson(e)).toBe(canonicalJson(e));
    expect(canonicalEventJson(e)).toContain('"extra":1');
  });
});
