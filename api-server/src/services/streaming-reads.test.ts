import { describe, expect, it } from "vitest";
import { loadApiServerConfig } from "../config.ts";
import { Problem } from "../problem.ts";
import { StreamingReads, streamingReadLimits } from "./streaming-reads.ts";

const limits = { perTenant: 2, connections: 3, queueTimeoutMs: 50, stallTimeoutMs: 1000, statementTimeoutMs: 0 };

async function refusal(p: Promise<unknown>): Promise<Problem> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(Problem);
  return err as Problem;
}

describe("StreamingReads", () => {
  it("refuses a tenant's read beyond its limit with 429 and Retry-After, and admits it again once one ends", async () => {
    const reads = new StreamingReads(limits);
    const first = await reads.admit("a");
    await reads.admit("a");
    const p = await refusal(reads.admit("a"));
    expect(p).toMatchObject({ status: 429, code: "too_many_exports" });
    expect(p.retryAfterSeconds).toBeGreaterThan(0);
    await reads.admit("b"); // another tenant is not affected
    first();
    first(); // releasing twice frees one slot only
    await reads.admit("a");
    expect(reads.held).toBe(3);
  });

  it("queues a read while every connection is taken and hands it the first one freed, in arrival order", async () => {
    const reads = new StreamingReads({ ...limits, perTenant: 10, queueTimeoutMs: 5_000 });
    const held = [await reads.admit("a"), await reads.admit("b"), await reads.admit("c")];
    const order: string[] = [];
    const d = reads.admit("d").then((done) => (order.push("d"), done));
    const e = reads.admit("e").then((done) => (order.push("e"), done));
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual([]);
    held[0]!();
    await d;
    expect(order).toEqual(["d"]);
    held[1]!();
    await e;
    expect(order).toEqual(["d", "e"]);
    expect(reads.held).toBe(3);
  });

  it("refuses a read that waited too long with 503, without leaking its tenant's count", async () => {
    const reads = new StreamingReads({ ...limits, perTenant: 1, connections: 1 });
    const done = await reads.admit("a");
    expect(await refusal(reads.admit("b"))).toMatchObject({ status: 503, code: "exports_busy" });
    done();
    (await reads.admit("b"))();
    expect(reads.held).toBe(0);
  });
});

describe("StreamingReads.idle", () => {
  it("resolves once every admitted read is done, a queued one included; a refused one never counts", async () => {
    const reads = new StreamingReads({ ...limits, perTenant: 1, connections: 1, queueTimeoutMs: 5_000 });
    await reads.idle(); // none running
    const first = await reads.admit("a");
    await refusal(reads.admit("a")); // 429
    const queued = reads.admit("b"); // waits for the connection
    let idle = false;
    void reads.idle().then(() => (idle = true));
    const tick = () => new Promise((r) => setTimeout(r, 10));
    first();
    const second = await queued;
    await tick();
    expect(idle).toBe(false);
    second();
    await tick();
    expect(idle).toBe(true);
  });
});

describe("streamingReadLimits", () => {
  it("reserves a quarter of the pool for ingest unless told otherwise, and always leaves exports a connection", () => {
    expect(streamingReadLimits(loadApiServerConfig({})).connections).toBe(15);
    expect(streamingReadLimits(loadApiServerConfig({ TRAILKEEPER_DB_POOL_SIZE: "1" })).connections).toBe(1);
    expect(streamingReadLimits(loadApiServerConfig({ TRAILKEEPER_DB_POOL_SIZE: "10", TRAILKEEPER_DB_RESERVED_FOR_INGEST: "7" })).connections).toBe(3);
    expect(() => loadApiServerConfig({ TRAILKEEPER_DB_POOL_SIZE: "10", TRAILKEEPER_DB_RESERVED_FOR_INGEST: "10" })).toThrow(/TRAILKEEPER_DB_RESERVED_FOR_INGEST/);
  });
});
