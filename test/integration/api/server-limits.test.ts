import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApiServer } from "../../../api-server/src/server.ts";
import { call, startTestApi, tenantWithKey } from "../../support/api.ts";
import { freshDatabase, type TestDatabase } from "../../support/database.ts";

let db: TestDatabase;
let api: RunningApiServer;
let key: string;

beforeAll(async () => {
  db = await freshDatabase();
  api = await startTestApi(db, {
    TRAILKEEPER_HTTP_HEADERS_TIMEOUT_MS: "600",
    TRAILKEEPER_HTTP_REQUEST_TIMEOUT_MS: "1500",
    TRAILKEEPER_HTTP_KEEP_ALIVE_TIMEOUT_MS: "400",
  });
  key = await tenantWithKey(api.url, "slow", ["events:write"]);
});

afterAll(async () => {
  await api?.close();
  await db?.drop();
});

/** A raw connection that writes `head` at once and then `drip` one byte per 100 ms; resolves when the server closes it. */
function slowClient(head: string, drip: string): Promise<{ ms: number; received: string }> {
  const { port } = new URL(api.url);
  const started = Date.now();
  return new Promise((resolve) => {
    const socket: Socket = connect(Number(port), "127.0.0.1", () => socket.write(head));
    let received = "";
    let i = 0;
    const timer = setInterval(() => {
      if (i < drip.length && socket.writable) socket.write(drip[i++]!);
    }, 100);
    socket.on("data", (b) => (received += b.toString()));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearInterval(timer);
      resolve({ ms: Date.now() - started, received });
    });
  });
}

describe("HTTP server timeouts", () => {
  it("cuts a request whose body arrives too slowly after the request timeout, while serving others", async () => {
    const body = JSON.stringify({ actor: { id: "a", type: "user" }, action: "resource.update", resource: { type: "x", id: "slow" }, outcome: "success" });
    const head = `POST /v1/events HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${key}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
    const slow = slowClient(head, body);
    // The server keeps serving other clients meanwhile.
    for (let i = 0; i < 5; i++) expect((await call(api.url, "GET", "/healthz")).status).toBe(200);
    const { ms, received } = await slow;
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(ms).toBeGreaterThanOrEqual(1400);
    expect(ms).toBeLessThan(4000);
    expect((await db.pool.query("SELECT count(*)::int AS n FROM events WHERE tenant = 'slow' AND resource_id = 'slow'")).rows[0].n).toBe(0);
  });

  it("cuts a client that sends its headers too slowly after the headers timeout", async () => {
    const { ms, received } = await slowClient("GET /healthz HTTP/1.1\r\n", "host: x\r\nx-slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n");
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(ms).toBeGreaterThanOrEqual(500);
    expect(ms).toBeLessThan(1400);
  });

  // Node closes the socket keepAliveTimeoutBuffer (1 s) after the announced timeout, so that a client that
  // trusts the announcement never sends on a connection being closed.
  it("closes an idle keep-alive connection after the keep-alive timeout, announced in Keep-Alive", async () => {
    const { ms, received } = await slowClient("GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n", "");
    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    expect(received.toLowerCase()).toMatch(/keep-alive: timeout=\d+/);
    expect(ms).toBeGreaterThanOrEqual(1350);
    expect(ms).toBeLessThan(2500);
  });
});

describe("database session limits", () => {
  it("sets statement_timeout and idle_in_transaction_session_timeout on every connection; a session may override", async () => {
    const limited = await startTestApi(db, { TRAILKEEPER_DB_STATEMENT_TIMEOUT_MS: "1234", TRAILKEEPER_DB_IDLE_IN_TX_TIMEOUT_MS: "2345" });
    try {
      const c = await limited.pool.connect();
      try {
        expect((await c.query("SHOW statement_timeout")).rows[0].statement_timeout).toBe("1234ms");
        expect((await c.query("SHOW idle_in_transaction_session_timeout")).rows[0].idle_in_transaction_session_timeout).toBe("2345ms");
        await expect(c.query("SELECT pg_sleep(2)")).rejects.toMatchObject({ code: "57014" });
        // Long exports set their own limit for their session.
        await c.query("SET statement_timeout = 0");
        await c.query("SELECT pg_sleep(1.3)");
      } finally {
        c.release();
      }
    } finally {
      await limited.close();
    }
  });

  it("runs migrations without the statement timeout: a replica waits for another's migration lock as long as it takes", async () => {
    const other = await db.superuser();
    await other.query("SELECT pg_advisory_lock($1)", [0x7472_6b70]);
    const starting = startTestApi(db, { TRAILKEEPER_DB_STATEMENT_TIMEOUT_MS: "200" });
    await new Promise((r) => setTimeout(r, 800));
    await other.query("SELECT pg_advisory_unlock($1)", [0x7472_6b70]);
    await other.end();
    const started = await starting;
    expect((await call(started.url, "GET", "/readyz")).status).toBe(200);
    await started.close();
  });

  it("answers 503 with Retry-After, not 500, when no connection frees up within the acquire timeout", async () => {
    const small = await startTestApi(db, { TRAILKEEPER_DB_POOL_SIZE: "1", TRAILKEEPER_DB_ACQUIRE_TIMEOUT_MS: "300" });
    const held = await small.pool.connect();
    try {
      const r = await call(small.url, "POST", "/v1/events", { token: key, body: { actor: { id: "a", type: "user" }, action: "resource.update", resource: { type: "x", id: "busy" }, outcome: "success" } });
      expect([r.status, r.body.code, r.headers.get("retry-after")]).toEqual([503, "database_unavailable", "5"]);
      expect(r.headers.get("content-type")).toContain("application/problem+json");
    } finally {
      held.release();
      await small.close();
    }
  });
});

describe("draining on close", () => {
  /** A raw keep-alive connection: send one request, resolve with the response text once it is complete. */
  function rawConnection(port: number) {
    const socket = connect(port, "127.0.0.1");
    let buffer = "";
    let waiting: ((text: string) => void) | undefined;
    socket.on("data", (b) => {
      buffer += b.toString();
      const end = buffer.indexOf("\r\n\r\n");
      const length = Number(/content-length: (\d+)/i.exec(buffer)?.[1] ?? 0);
      if (waiting && end >= 0 && buffer.length >= end + 4 + length) {
        const text = buffer;
        buffer = "";
        waiting(text);
      }
    });
    socket.on("error", () => {});
    const closed = new Promise<void>((r) => socket.on("close", () => r()));
    return {
      socket, closed,
      request: (text: string) => new Promise<string>((resolve) => {
        waiting = resolve;
        socket.write(text);
      }),
    };
  }

  it("serves a request that arrives on an idle keep-alive connection after close() began, then ends that connection", async () => {
    const own = await startTestApi(db, { TRAILKEEPER_HTTP_KEEP_ALIVE_TIMEOUT_MS: "5000" });
    const conn = rawConnection(Number(new URL(own.url).port));
    expect(await conn.request("GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")).toMatch(/^HTTP\/1\.1 200 [\s\S]*keep-alive/i);
    let closedAt = 0;
    const closing = own.close().then(() => (closedAt = Date.now()));
    // The idle connection is not cut under the client: its next request is answered, with Connection: close.
    const second = await conn.request("GET /readyz HTTP/1.1\r\nhost: x\r\n\r\n");
    expect(second).toMatch(/^HTTP\/1\.1 503 /);
    expect(second.toLowerCase()).toContain("connection: close");
    expect(second).toContain("shutting down");
    await conn.closed;
    await closing;
    expect(closedAt).toBeGreaterThan(0);
  });

  it("cuts a request still in flight after the shutdown timeout", async () => {
    const own = await startTestApi(db, { TRAILKEEPER_SHUTDOWN_TIMEOUT_MS: "500" });
    const conn = rawConnection(Number(new URL(own.url).port));
    // Headers of a POST whose body never comes: in flight until the request timeout (60 s).
    conn.socket.write(`POST /v1/events HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${key}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{`);
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await own.close();
    await conn.closed;
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe("statement timeout", () => {
  it("answers a search cancelled by statement_timeout with 503 query_timeout and Retry-After, not 500", async () => {
    const short = await startTestApi(db, { TRAILKEEPER_DB_STATEMENT_TIMEOUT_MS: "300" });
    const reader = await tenantWithKey(short.url, "slow-read", ["events:read"]);
    // An ACCESS EXCLUSIVE lock held elsewhere makes the search wait until its statement_timeout cancels it.
    const locker = await db.superuser();
    try {
      await locker.query("BEGIN");
      await locker.query("LOCK TABLE events IN ACCESS EXCLUSIVE MODE");
      const res = await call(short.url, "GET", "/v1/events?limit=5", { token: reader });
      expect(res.status).toBe(503);
      expect(res.body.code).toBe("query_timeout");
      expect(res.headers.get("retry-after")).toBe("5");
    } finally {
      await locker.query("ROLLBACK");
      await locker.end();
    }
    expect((await call(short.url, "GET", "/v1/events?limit=5", { token: reader })).status).toBe(200);
    await short.close();
  });
});
