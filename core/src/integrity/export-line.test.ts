import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canonicalEventJson } from "../events/canonical-event.ts";
import { eventHash, extendChain, genesisHash } from "../events/chain.ts";
import type { PendingEvent, StoredEvent } from "../events/model.ts";
import { HashCheckedEvent } from "./chain-verifier.ts";
import { scanExportLine } from "./export-line.ts";
import { leafHashBinary } from "./merkle.ts";

/** A JSONL export line as the server writes it (api-server/src/services/export.ts). */
const lineOf = (e: StoredEvent) => `${canonicalEventJson(e).slice(0, -1)},"hash":${JSON.stringify(e.hash)}}`;

const detailsCases: unknown[] = [
  undefined,
  {},
  { n: 1 },
  { a: [1, -2, 0.1, 1e21, 1e-7, -0, 5e-324, 1.7976931348623157e308], b: { c: null, d: true, e: false }, z: [] },
  { "10": "x", "2": "y", "1": { "03": 1, "3": 2 }, __proto__x: 1 },
  JSON.parse('{"__proto__": {"polluted": 1}, "k": "v"}'),
  { text: 'quote " backslash \\ slash / tab \t newline \n cr \r bell \u0007 del \u007f nul-free \u001f' },
  { emoji: "😀 é ü 中文 \u2028 \u2029 \ufeff \uffff", key: "ä" },
  { deep: { a: { b: { c: { d: [[[{ e: [] }]]] } } } } },
  { "": "empty key", " ": "space", "~": "tilde", A: "upper", a: "lower" },
  ["details", "as", "an", "array"],
  "a string",
  42,
];

function chain(): StoredEvent[] {
  const pending = detailsCases.map((details, i): PendingEvent => {
    const e: PendingEvent = {
      id: `0190${String(i).padStart(4, "0")}-0000-7000-8000-000000000000`, tenant: "acme",
      occurredAt: "2026-01-02T03:04:05.006Z", receivedAt: "2026-01-02T03:04:05.007Z",
      actor: i % 2 ? { id: "u-1", name: "Ada \"the\" Admin", type: "user" } : { id: "svc", type: "service" },
      action: "resource.update", category: "resources",
      resource: i % 3 ? { type: "bucket", id: "b-1" } : { type: "bucket", id: "b-1", name: "Büchse" },
      outcome: "success",
    };
    if (details !== undefined) e.details = details as Record<string, unknown>;
    if (i % 2) Object.assign(e, { clientIp: "203.0.113.7", userAgent: "curl/8 \"x\"", sessionId: "s-1", requestId: "r-1" });
    return e;
  });
  return extendChain({ seq: 0, hash: genesisHash }, pending).events;
}

/** The full path's verdict: the parsed event when its recomputed hash is its stated one. */
function fullPath(line: string): StoredEvent | undefined {
  try {
    const e = JSON.parse(line) as StoredEvent;
    if (typeof e !== "object" || e === null || !Number.isSafeInteger(e.seq) || typeof e.hash !== "string" || typeof e.prevHash !== "string" || typeof e.tenant !== "string") return undefined;
    return eventHash(e) === e.hash ? e : undefined;
  } catch {
    return undefined;
  }
}

const scan = (line: string) => {
  const bytes = Buffer.from(`\n${line}\n`, "utf8");
  return scanExportLine(bytes, 1, bytes.length - 1);
};

/** A line whose hash member states the SHA-256 of the line's own text up to it: what a forger would write. */
function selfHashed(line: string): string {
  const at = line.lastIndexOf(',"hash":');
  const prefix = `${line.slice(0, at)}}`;
  return `${line.slice(0, at)},"hash":"${createHash("sha256").update(prefix, "utf8").digest("hex")}"}`;
}

/** The fast path may only take a line the full path takes, with the same values. */
function expectAgreement(line: string) {
  const fast = scan(line);
  if (fast === undefined) return;
  const full = fullPath(line);
  expect(full, line).toBeDefined();
  expect(fast).toEqual(new HashCheckedEvent(full!.seq, full!.prevHash, full!.hash, full!.tenant, full!.receivedAt, leafHashBinary(full!.hash)));
}

describe("scanExportLine (the fast path of offline verification)", () => {
  const events = chain();

  it("takes every line the server writes, with the values the full path parses", () => {
    for (const e of events) {
      const line = lineOf(e);
      expect(fullPath(line), line).toBeDefined();
      expect(scan(line), line).toEqual(new HashCheckedEvent(e.seq, e.prevHash, e.hash, e.tenant, e.receivedAt, leafHashBinary(e.hash)));
      // JSON.parse ignores whitespace around the value, and so does the fast path at the end.
      expect(scan(`${line} \r`)).toBeDefined();
    }
  });

  it("never takes a line whose content does not hash to its stated hash", () => {
    for (const e of events) {
      const line = lineOf(e);
      expect(scan(line.replace('"resource.update"', '"resource.delete"'))).toBeUndefined();
      expect(scan(line.replace(/"hash":"[0-9a-f]/, '"hash":"X'))).toBeUndefined();
      expect(scan(line.replace(`"seq":${e.seq}`, `"seq":${e.seq + 1}`))).toBeUndefined();
      expect(scan(line.replace(`"prevHash":"${e.prevHash}"`, `"prevHash":"${"f".repeat(64)}"`))).toBeUndefined();
    }
  });

  // A forger can hash any text; the fast path must then still refuse what re-canonicalising would not reproduce.
  const forgeries: [string, (line: string) => string][] = [
    ["whitespace between members", (l) => l.replace('","actor"', '", "actor"')],
    ["members reordered", (l) => l.replace(/^\{"action":("[^"]*"),"actor":(\{[^}]*\}),/, '{"actor":$2,"action":$1,')],
    ["a member added", (l) => l.replace(',"id":', ',"extra":1,"id":')],
    ["a hash member before the end", (l) => l.replace(',"id":', ',"hash":"x","id":')],
    ["details keys out of order", (l) => l.replace('"details":{"a":[', '"details":{"zz":0,"a":[')],
    ["details keys duplicated", (l) => l.replace('"details":{"n":1}', '"details":{"n":1,"n":1}')],
    ["a number not in shortest form", (l) => l.replace('"details":{"n":1}', '"details":{"n":1.0}')],
    ["a number with an exponent letter", (l) => l.replace('"details":{"n":1}', '"details":{"n":1E0}')],
    ["an escaped letter", (l) => l.replace('"action":"resource.update"', '"action":"\\u0072esource.update"')],
    ["an escaped slash", (l) => l.replace('slash /', 'slash \\/')],
    ["an uppercase escape", (l) => l.replace("\\u001f", "\\u001F")],
    ["a long escape for a short one", (l) => l.replace("tab \\t", "tab \\u0009")],
    ["a lone surrogate", (l) => l.replace('"details":{"n":1}', '"details":{"n":"\\ud800"}')],
    ["a seq with a leading zero", (l) => l.replace(/"seq":(\d+)/, '"seq":0$1')],
    ["a seq as a string", (l) => l.replace(/"seq":(\d+)/, '"seq":"$1"')],
    ["a null name", (l) => l.replace('"name":"Büchse"', '"name":null')],
    ["integer keys in insertion order", (l) => l.replace('{"1":{"03":1,"3":2},"10":"x","2":"y"', '{"1":{"03":1,"3":2},"2":"y","10":"x"')],
    ["leading whitespace", (l) => ` ${l}`],
    ["a raw control character", (l) => l.replace("tab \\t", "tab \t")],
  ];

  it.each(forgeries)("refuses a self-hashed line with %s, unless the full path takes it too", (_name, forge) => {
    let changed = 0;
    for (const e of events) {
      const line = lineOf(e);
      const forged = forge(line);
      if (forged === line) continue;
      changed++;
      expectAgreement(selfHashed(forged));
      expectAgreement(forged);
    }
    expect(changed).toBeGreaterThan(0);
  });

  it("agrees with the full path on random byte edits, self-hashed or not", () => {
    let seed = 15;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const alphabet = ' {}[]":,\\0123456789-+.eEtrufalsn\u00e9\u{1F600}"abcdu';
    const chars = [...alphabet];
    let taken = 0;
    for (let round = 0; round < 4000; round++) {
      const line = lineOf(events[rand(events.length)]!);
      const at = rand(line.lastIndexOf(',"hash":'));
      const ch = chars[rand(chars.length)]!;
      const edited = [line.slice(0, at) + ch + line.slice(at), line.slice(0, at) + line.slice(at + 1), line.slice(0, at) + ch + line.slice(at + 1)][round % 3]!;
      const forged = selfHashed(edited);
      expectAgreement(forged);
      expectAgreement(edited);
      if (scan(forged)) taken++;
    }
    // Some edits keep the line canonical (a letter for a letter); those are taken, and agreed on above.
    expect(taken).toBeGreaterThan(0);
  });
});
