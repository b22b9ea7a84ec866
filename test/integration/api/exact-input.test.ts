import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApiServer } from "../../../api-server/src/server.ts";
import { canonicalJson } from "../../../core/src/events/canonical.ts";
import { eventHash } from "../../../core/src/events/chain.ts";
import { maxDetailsDepth } from "../../../core/src/events/model.ts";
import { verifyExport } from "../../../core/src/integrity/offline-verify.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";
import { call, startTestApi, tenantWithKey } from "../../support/api.ts";

let db: TestDatabase;
let api: RunningApiServer;
let writer: string;
let reader: string;

beforeAll(async () => {
  db = await freshDatabase();
  api = await startTestApi(db);
  writer = await tenantWithKey(api.url, "exact", ["events:write"]);
  reader = await tenantWithKey(api.url, "exact", ["events:read", "events:export"]);
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

const rowCount = async () => Number((await db.pool.query("SELECT count(*) AS n FROM events WHERE tenant = 'exact'")).rows[0].n);

/** Posts raw bytes, so that tests control exactly what goes over the wire. */
async function postBytes(bytes: Uint8Array | string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await fetch(`${api.url}/v1/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${writer}`, "content-type": "application/json", ...headers },
    body: bytes,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** The JSON text of one event whose details are given as raw JSON text. */
const eventText = (detailsJson: string, extra = "") =>
  `{"actor":{"id":"u-1","type":"user"${extra}},"action":"resource.update","resource":{"type":"cluster","id":"c-1"},"details":${detailsJson}}`;

/** Asserts a refusal with the given status and code, and that nothing was stored. */
async function expectRefused(send: () => Promise<{ status: number; body: any }>, status: number, code: string): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const before = await rowCount();
  const res = await send();
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.code).toBe(code);
  expect(await rowCount()).toBe(before);
  return res.body;
}

async function exportJsonl(): Promise<string> {
  const res = await fetch(`${api.url}/v1/events/export?format=jsonl`, { headers: { authorization: `Bearer ${reader}` } });
  expect(res.status).toBe(200);
  return res.text();
}

describe("keys that name Object.prototype members are stored exactly", () => {
  const detailsJson = '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}},"prototype":"p","nested":[{"__proto__":null}],"plain":1}';

  it("stores, returns, exports and hashes what was sent", async () => {
    const sent = JSON.parse(detailsJson) as Record<string, unknown>;
    expect(Object.keys(sent)).toContain("__proto__"); // JSON.parse keeps it as an own key

    const res = await postBytes(eventText(detailsJson));
    expect(res.status).toBe(201);
    const { id, hash } = res.body.events[0];

    const stored = (await db.pool.query("SELECT details FROM events WHERE id = $1", [id])).rows[0].details as string;
    expect(stored).toBe(canonicalJson(sent));

    const search = await call(api.url, "GET", "/v1/events?resource=c-1", { token: reader });
    const found = search.body.events.find((e: { id: string }) => e.id === id);
    expect(canonicalJson(found.details)).toBe(canonicalJson(sent));
    expect(found.hash).toBe(hash);
    expect(eventHash(found)).toBe(hash);

    const jsonl = await exportJsonl();
    const line = jsonl.split("\n").map((l) => (l ? JSON.parse(l) : undefined)).find((e) => e?.id === id);
    expect(canonicalJson(line.details)).toBe(canonicalJson(sent));
    expect(eventHash(line)).toBe(hash);
    expect(verifyExport(jsonl).exitCode).toBe(0);
  });

  it("refuses __proto__ where the schema names the fields (top level, actor)", async () => {
    await expectRefused(() => postBytes(`{"__proto__":{},${eventText("{}").slice(1)}`), 400, "invalid_event");
    await expectRefused(() => postBytes(eventText("{}", ',"__proto__":{"name":"x"}')), 400, "invalid_event");
  });
});

describe("invalid UTF-8 is refused, never replaced", () => {
  const withBytes = (bad: number[]) => {
    const [head, tail] = eventText('{"v":"@"}').split("@") as [string, string];
    return Buffer.concat([Buffer.from(head), Buffer.from(bad), Buffer.from(tail)]);
  };
  it.each([
    ["overlong '/'", [0xc0, 0xaf]],
    ["overlong NUL", [0xc0, 0x80]],
    ["overlong three-byte", [0xe0, 0x80, 0xaf]],
    ["UTF-8-encoded surrogate", [0xed, 0xa0, 0x80]],
    ["truncated sequence", [0xe2, 0x82]],
    ["lone continuation byte", [0x80]],
    ["beyond U+10FFFF", [0xf4, 0x90, 0x80, 0x80]],
    ["invalid byte", [0xff]],
  ])("%s → 400 invalid_utf8", async (_name, bad) => {
    await expectRefused(() => postBytes(withBytes(bad)), 400, "invalid_utf8");
  });

  it("accepts valid multi-byte text and stores it unchanged", async () => {
    const res = await postBytes(Buffer.from(eventText('{"v":"é€😀\\u00e9"}')));
    expect(res.status).toBe(201);
    const stored = (await db.pool.query("SELECT details FROM events WHERE id = $1", [res.body.events[0].id])).rows[0].details;
    expect(stored).toBe('{"v":"é€😀é"}');
  });

  it("refuses a charset other than UTF-8", async () => {
    await expectRefused(() => postBytes(eventText("{}"), { "content-type": "application/json; charset=latin1" }), 415, "unsupported_encoding");
  });

  it.each([
    ["a details value", eventText('{"v":"\\ud800"}')],
    ["a details key", eventText('{"\\udc00":1}')],
    ["actor.id", eventText("{}").replace('"u-1"', '"\\ud83d"')],
  ])("refuses a lone surrogate escape in %s", async (_where, text) => {
    await expectRefused(() => postBytes(text), 400, "invalid_event");
  });
});

describe("nesting of details", () => {
  const nested = (depth: number) => `${'{"a":'.repeat(depth - 1)}{}${"}".repeat(depth - 1)}`;

  it(`accepts ${maxDetailsDepth} levels`, async () => {
    const res = await postBytes(eventText(nested(maxDetailsDepth)));
    expect(res.status).toBe(201);
  });

  it.each([maxDetailsDepth + 1, 3_000, 100_000])("refuses %i levels with a clear message", async (depth) => {
    const body = await expectRefused(() => postBytes(eventText(nested(depth))), 400, "invalid_event");
    expect(body.errors[0]).toEqual({ path: "details", message: `must not nest objects and arrays more than ${maxDetailsDepth} levels deep` });
  });

  it("survives 100,000-deep arrays anywhere in the body", async () => {
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    await expectRefused(() => postBytes(eventText(`{"list":${deep}}`)), 400, "invalid_event");
    await expectRefused(() => postBytes(eventText("{}").replace('"u-1"', deep)), 400, "invalid_event");
    await expectRefused(() => postBytes(`{"events":[${deep}]}`), 400, "invalid_event");
    await expectRefused(() => postBytes(deep), 400, "invalid_event");
  });
});

describe("numbers", () => {
  it.each(["9007199254740993", "-9007199254740993", "12345678901234567890123"])("refuses the integer %s, which JSON.parse would round", async (n) => {
    const body = await expectRefused(() => postBytes(eventText(`{"n":${n}}`)), 400, "inexact_number");
    expect(body.detail).toContain(n);
  });

  it("refuses a number beyond binary64", async () => {
    await expectRefused(() => postBytes(eventText('{"n":1e400}')), 400, "invalid_event");
  });

  it("stores safe integers, fractions and exponents as their RFC 8785 form; digits inside strings are text", async () => {
    const res = await postBytes(eventText('{"max":9007199254740991,"min":-9007199254740991,"f":0.5,"e":1.5e300,"z":-0,"s":"12345678901234567890"}'));
    expect(res.status).toBe(201);
    const stored = (await db.pool.query("SELECT details FROM events WHERE id = $1", [res.body.events[0].id])).rows[0].details;
    expect(stored).toBe('{"e":1.5e+300,"f":0.5,"max":9007199254740991,"min":-9007199254740991,"s":"12345678901234567890","z":0}');
  });
});

describe("compressed bodies", () => {
  const plain = Buffer.from(eventText('{"compressed":true}'));

  it.each([
    ["gzip", gzipSync],
    ["deflate", deflateSync],
    ["br", brotliCompressSync],
  ] as const)("accepts a valid %s body", async (encoding, compress) => {
    expect((await postBytes(compress(plain), { "content-encoding": encoding })).status).toBe(201);
  });

  it.each([
    ["gzip", Buffer.from("definitely not gzip")],
    ["gzip", gzipSync(plain).subarray(0, 20)],
    ["deflate", Buffer.from([0x78, 0x9c, 0xff, 0xff, 0xff, 0x00])],
    ["br", Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])],
  ] as const)("refuses a corrupt %s body with 400 malformed_body", async (encoding, bytes) => {
    await expectRefused(() => postBytes(bytes, { "content-encoding": encoding }), 400, "malformed_body");
  });
});

describe("filter parameters: bad text is a 400 on search and export, and nothing is recorded", () => {
  const bad: [string, string][] = [
    ["q", "a\u0000b"],
    ["actor", "u\u0000"],
    ["resource", "\u0000"],
    ["resourceType", "x\u0000"],
    ["q", "line\nbreak"],
    ["actor", "bell\u0007"],
    ["resource", "del\u007f"],
    ["resourceType", "esc\u001b[0m"],
    ["ip", "fe80::1%eth0"],
    ["ip", "fe80::1%25eth0/64"],
    // PostgreSQL has no year 0: found by the fuzz test, as a CSV export that failed after its headers.
    ["from", "0000-01-01T00:00:00Z"],
    ["to", "9999-12-31T23:59:59-01:00"],
  ];

  it.each(bad)("%s=%j", async (name, value) => {
    const qs = new URLSearchParams({ [name]: value }).toString();
    const search = await expectRefused(() => call(api.url, "GET", `/v1/events?${qs}`, { token: reader }), 400, "invalid_filter");
    expect(search.errors.map((e: { path: string }) => e.path)).toEqual([name]);
    await expectRefused(() => call(api.url, "GET", `/v1/events/export?format=jsonl&${qs}`, { token: reader }), 400, "invalid_filter");
    await expectRefused(() => call(api.url, "GET", `/v1/events/export?format=csv&${qs}`, { token: reader }), 400, "invalid_filter");
  });

  it.each(["q=%ED%A0%80", "actor=%C0%AF", "resource=%FF", "q=100%", "q=%zz", "%E2%82=x"])("a query string that is not percent-encoded UTF-8: %s", async (qs) => {
    await expectRefused(() => call(api.url, "GET", `/v1/events?${qs}`, { token: reader }), 400, "invalid_filter");
    await expectRefused(() => call(api.url, "GET", `/v1/events/export?format=csv&${qs}`, { token: reader }), 400, "invalid_filter");
  });

  it("keeps accepting a tab and ordinary Unicode", async () => {
    expect((await call(api.url, "GET", `/v1/events?${new URLSearchParams({ actor: "a\tb", q: "é 😀" })}`, { token: reader })).status).toBe(200);
  });
});
