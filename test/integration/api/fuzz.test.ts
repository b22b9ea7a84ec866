import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApiServer } from "../../../api-server/src/server.ts";
import { canonicalJson } from "../../../core/src/events/canonical.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { startTestApi, tenantWithKey } from "../../support/api.ts";

/**
 * Property-based tests against the real server on real PostgreSQL: whatever a client sends to ingest, search or
 * export, the answer is never a 500, a refusal stores nothing, and an accepted event is stored as it was sent.
 */

let db: TestDatabase;
let api: RunningApiServer;
let writer: string;
let exporter: string;

beforeAll(async () => {
  db = await freshDatabase();
  api = await startTestApi(db);
  writer = await tenantWithKey(api.url, "fuzz", ["events:write"]);
  exporter = await tenantWithKey(api.url, "fuzz", ["events:read", "events:export"]);
  // A few events for search and export to find.
  for (const q of ["alpha beta", "gamma"]) await send(`{"actor":{"id":"seed","type":"user"},"action":"auth.login","resource":{"type":"t","id":"${q}"},"clientIp":"10.0.0.1"}`);
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

const runs = { numRuns: 200, endOnFailure: true } as const;

const rowCount = async () => Number((await db.pool.query("SELECT count(*) AS n FROM events WHERE tenant = 'fuzz'")).rows[0].n);

async function send(body: string | Uint8Array): Promise<{ status: number; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await fetch(`${api.url}/v1/events`, { method: "POST", headers: { authorization: `Bearer ${writer}`, "content-type": "application/json" }, body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

// ---- generators -------------------------------------------------------------------------------------------------

/** Strings a hostile or careless client sends. */
const hostileString = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "", " ", "\t", "\u0000", "a\u0000b", "\u0007", "\u001b[31m", "\u007f", "line\nbreak", "\r\n", "\ud800", "a\udc00b", "\udbff\udfff",
      "😀", "\u202e", "\ufeff", "\ufffd", "__proto__", "constructor", "prototype", "toString", "%", "%00", "%zz", "_%\\",
      "'; DROP TABLE events; --", "x".repeat(257), "y".repeat(2000), "fe80::1%eth0", "10.0.0.0/8", "::ffff:10.0.0.1",
    ),
  },
);

/** Number literals as text, including ones JSON.parse cannot keep exactly. */
const numberText = fc.oneof(
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
  fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }).map(String),
  fc.constantFrom("-0", "0.0", "1e400", "-1e400", "1E2", "9007199254740991", "9007199254740992", "9007199254740993", "-9007199254740993", "5e-324", "1.7976931348623157e308", "0.1000000000000000000000001"),
);

const objectText = (entries: [string, string][]) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`;
const prototypeKeys = fc.constantFrom("__proto__", "constructor", "prototype");

/** JSON text of a value, built by hand so that keys like __proto__ and exact number spellings survive. */
const jsonTextOf = (str: fc.Arbitrary<string>, num: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.letrec<{ value: string }>((tie) => ({
    value: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.constantFrom("null", "true", "false"),
      num,
      str.map((s) => JSON.stringify(s)),
      fc.array(tie("value"), { maxLength: 4 }).map((items) => `[${items.join(",")}]`),
      fc.uniqueArray(fc.tuple(fc.oneof(str, prototypeKeys), tie("value")), { maxLength: 4, selector: ([k]) => k }).map(objectText),
    ),
  })).value;

const detailsOf = (str: fc.Arbitrary<string>, num: fc.Arbitrary<string>) =>
  fc.uniqueArray(fc.tuple(fc.oneof(str, prototypeKeys), jsonTextOf(str, num)), { maxLength: 6, selector: ([k]) => k }).map(objectText);

/** Text that can be stored exactly, yet is awkward: any code point but NUL, __proto__, bidi controls, a BOM. */
const storableString = fc.oneof(
  fc.string({ unit: "binary", minLength: 1, maxLength: 20 }).filter((x) => !x.includes("\u0000")),
  fc.constantFrom("__proto__", "😀", "\u202e", "\ufeff", "line\nbreak", "%", "_%\\", "y".repeat(2000), "\udbff\udfff"),
);
const storableNumber = fc.oneof(
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
  fc.constantFrom("-0", "0.0", "1E2", "9007199254740991", "-9007199254740991", "5e-324", "1.7976931348623157e308", "0.1000000000000000000000001"),
);

/** `details`: hostile members, sometimes nested far too deep, sometimes not an object. */
const hostileDetails = fc.oneof(
  { weight: 6, arbitrary: detailsOf(hostileString, numberText) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 5000 }).map((depth) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 3000 }).map((depth) => `{"a":${"[".repeat(depth)}${"]".repeat(depth)}}`) },
  { weight: 1, arbitrary: jsonTextOf(hostileString, numberText) },
);

const validish = <T>(good: fc.Arbitrary<T>, weight = 4) => fc.oneof({ weight, arbitrary: good }, { weight: 1, arbitrary: hostileString });

const withDetails = ({ details, ...rest }: { details?: string }) => {
  const head = JSON.stringify(rest);
  return details === undefined ? head : `${head.slice(0, -1)}${head === "{}" ? "" : ","}"details":${details}}`;
};

/** An event that should be accepted: every field valid, yet full of awkward text, keys and numbers. */
const storableEventText = fc
  .record(
    {
      actor: fc.record({ id: storableString, name: storableString, type: fc.constantFrom("user", "service", "system") }, { requiredKeys: ["id", "type"] }),
      action: fc.constantFrom("auth.login", "resource.cluster.delete", "secret.reveal"),
      resource: fc.record({ type: storableString, id: storableString, name: storableString }, { requiredKeys: ["type", "id"] }),
      outcome: fc.constantFrom("success", "failure", "unknown"),
      clientIp: fc.constantFrom("203.0.113.7", "2001:db8::1", "::ffff:1.2.3.4"),
      occurredAt: fc.constantFrom("2026-01-01T00:00:00Z", "2026-01-01T00:00:00.123456+05:30", "0001-01-01T00:00:00Z"),
      details: detailsOf(storableString, storableNumber),
    },
    { requiredKeys: ["actor", "action", "resource"] },
  )
  .map(withDetails);

/** An event with hostile values anywhere: mostly refused, and whatever is accepted must be stored as sent. */
const hostileEventText = fc
  .record(
    {
      actor: fc.record({ id: validish(fc.string({ unit: "binary", minLength: 1, maxLength: 30 })), name: validish(fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 })), type: fc.constantFrom("user", "service", "system", "robot") }, { requiredKeys: ["id", "type"] }),
      action: fc.constantFrom("auth.login", "resource.cluster.delete", "secret.reveal", "coffee.brew", "login", "AUTH.LOGIN", "audit.export"),
      resource: fc.record({ type: validish(fc.string({ minLength: 1, maxLength: 10 })), id: validish(fc.string({ unit: "binary", minLength: 1, maxLength: 30 })), name: hostileString }, { requiredKeys: ["type", "id"] }),
      outcome: fc.constantFrom("success", "failure", "unknown", "ok"),
      clientIp: fc.constantFrom("203.0.113.7", "2001:db8::1", "fe80::1%eth0", "300.1.1.1", "::ffff:1.2.3.4", ""),
      occurredAt: fc.constantFrom("2026-01-01T00:00:00Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00", "2026-02-30T00:00:00Z", "yesterday"),
      userAgent: hostileString,
      sessionId: hostileString,
      details: hostileDetails,
    },
    { requiredKeys: ["actor", "action", "resource"] },
  )
  .map(withDetails);

const eventText = fc.oneof(storableEventText, hostileEventText);

// ---- oracles ----------------------------------------------------------------------------------------------------

/** Every integer literal (outside strings) of JSON text: an accepted body must have kept each exactly. */
function integerLiterals(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g)) {
    if (/^-?\d+$/.test(m[0])) out.push(m[0]);
  }
  return out;
}

interface Sent {
  actor: { id: string; name?: string; type: string };
  action: string;
  resource: { type: string; id: string; name?: string };
  details?: Record<string, unknown>;
}

/** Reads the stored event back and compares it with what the client sent (key order aside). */
async function expectStoredAsSent(id: string, sentText: string): Promise<void> {
  const sent = JSON.parse(sentText) as Sent;
  const row = (await db.pool.query("SELECT actor_id, actor_name, actor_type, action, resource_type, resource_id, resource_name, details FROM events WHERE tenant = 'fuzz' AND id = $1", [id])).rows[0];
  expect(row).toBeDefined();
  expect({ id: row.actor_id, name: row.actor_name ?? undefined, type: row.actor_type }).toEqual({ id: sent.actor.id, name: sent.actor.name, type: sent.actor.type });
  expect(row.action).toBe(sent.action);
  expect({ type: row.resource_type, id: row.resource_id, name: row.resource_name ?? undefined }).toEqual({ type: sent.resource.type, id: sent.resource.id, name: sent.resource.name });
  if (sent.details === undefined) expect(row.details).toBeNull();
  else expect(row.details).toBe(canonicalJson(sent.details));
  for (const literal of integerLiterals(sentText)) expect(BigInt(Number(literal)), `integer ${literal} kept exactly`).toBe(BigInt(literal));
}

/** Answers seen, so that a test can insist its generator reached both sides of the server's decision. */
const seen = { accepted: 0, refused: 0 };

async function checkIngest(body: string | Uint8Array): Promise<void> {
  const before = await rowCount();
  const res = await send(body);
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(500);
  seen[res.status < 400 ? "accepted" : "refused"] += 1;
  if (res.status >= 400) {
    expect(typeof res.body.code).toBe("string");
    expect(await rowCount()).toBe(before);
    return;
  }
  expect(res.status).toBe(201);
  expect(await rowCount()).toBe(before + 1);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(typeof body === "string" ? Buffer.from(body) : body);
  } catch {
    throw new Error("a body that is not valid UTF-8 was accepted");
  }
  await expectStoredAsSent(res.body.events[0].id, text);
}

// ---- properties -------------------------------------------------------------------------------------------------

describe("ingest", () => {
  it("never answers 500, stores nothing on a refusal, and stores an accepted event as sent", async () => {
    Object.assign(seen, { accepted: 0, refused: 0 });
    await fc.assert(fc.asyncProperty(eventText, checkIngest), runs);
    expect(seen.accepted).toBeGreaterThan(runs.numRuns / 10);
    expect(seen.refused).toBeGreaterThan(runs.numRuns / 10);
  });

  it("the same with raw bytes spliced into an otherwise valid body", async () => {
    const valid = '{"actor":{"id":"u","type":"user"},"action":"auth.login","resource":{"type":"t","id":"@"},"details":{"k":"@"}}';
    const bytes = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 6 }),
      fc.constantFrom([0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xef, 0xbb, 0xbf], [0xf0, 0x9f, 0x98, 0x80]).map((b) => Uint8Array.from(b)),
    );
    await fc.assert(
      fc.asyncProperty(bytes, fc.boolean(), async (inject, inDetails) => {
        const [a, b, c] = valid.split("@") as [string, string, string];
        const body = inDetails ? [a, "x", b, inject, c] : [a, inject, b, "x", c];
        await checkIngest(Buffer.concat(body.map((p) => (typeof p === "string" ? Buffer.from(p) : Buffer.from(p)))));
      }),
      runs,
    );
  });
});

const filterParams = ["action", "category", "actor", "resourceType", "resource", "outcome", "ip", "from", "to", "q"] as const;

/** Plausible and hostile values for one query parameter, as a raw (already percent-encoded) query component. */
const paramValue = fc.oneof(
  { weight: 3, arbitrary: hostileString.map((s) => encodeURIComponent(s.isWellFormed() ? s : s.toWellFormed())) },
  { weight: 2, arbitrary: fc.constantFrom("auth.login", "auth.*", "auth,secrets", "success,failure", "10.0.0.0/8", "2001:db8::/32", "fe80::1%25eth0", "1.2.3.4/33", "2026-01-01T00:00:00Z", "2026-02-30T00:00:00Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00", "alpha", "seed", "10", "0", "-1", "501", "1e3") },
  { weight: 2, arbitrary: fc.constantFrom("%00", "a%00b", "%ED%A0%80", "%C0%AF", "%FF", "%", "%zz", "%0A", "%7F", "%E2%80%AE", "x%20%20y") },
);

const queryString = (extra: readonly string[]) =>
  fc
    .array(fc.tuple(fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...filterParams, ...extra) }, { weight: 1, arbitrary: fc.constantFrom("unknown", "__proto__", "actor[x]", "") }), paramValue), { maxLength: 4 })
    .map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${v}`).join("&"));

async function get(path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${exporter}` } });
  return { status: res.status, text: await res.text() };
}

describe("search and export", () => {
  it("search: never a 500, never a write", async () => {
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(queryString(["limit", "cursor"]), async (qs) => {
        const before = await rowCount();
        const res = await get(`/v1/events?${qs}`);
        expect([200, 400], `${qs} → ${res.status} ${res.text.slice(0, 300)}`).toContain(res.status);
        statuses.add(res.status);
        expect(await rowCount()).toBe(before);
      }),
      runs,
    );
    expect([...statuses].sort()).toEqual([200, 400]);
  });

  it("export: never a 500; a refusal records nothing, a success is recorded", async () => {
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("format=jsonl&", "format=csv&", "format=csv&bom=1&", "format=xml&", "", "format=jsonl&bom=2&"), queryString([]), async (fmt, qs) => {
        const before = await rowCount();
        const res = await get(`/v1/events/export?${fmt}${qs}`);
        expect([200, 400], `${fmt}${qs} → ${res.status} ${res.text.slice(0, 300)}`).toContain(res.status);
        statuses.add(res.status);
        // A refusal records nothing; an export is recorded in the chain (an opening and a closing audit.export).
        if (res.status === 400) expect(await rowCount()).toBe(before);
        else expect(await rowCount()).toBeGreaterThan(before);
      }),
      { ...runs, numRuns: 150 },
    );
    expect([...statuses].sort()).toEqual([200, 400]);
  });
});
