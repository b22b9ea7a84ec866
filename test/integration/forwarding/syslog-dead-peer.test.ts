import { execFileSync } from "node:child_process";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { logForwardingDestinationSpecSchema } from "../../../core/src/crd/log-forwarding-destination.ts";
import { createSender } from "../../../core/src/destinations/registry.ts";
import { keepAliveIdleMs } from "../../../core/src/destinations/syslog/connection.ts";
import { withChanges } from "../../../core/src/destinations/testdata/sample-event.ts";
import type { StoredEvent } from "../../../core/src/events/model.ts";
import type { EventSender } from "../../../core/src/forwarding/types.ts";
import { secretSourceFrom } from "../../../core/src/secrets.ts";
import { testEgress } from "../destinations/check-helpers.ts";

/**
 * A receiver that accepts and then never reads nor closes (pauseOnConnect: Node does not even start reading), as a
 * hung or silently dead syslog server looks from the sender: the kernel buffers on both sides fill, then nothing.
 */
async function startStuckReceiver(): Promise<{ port: number; connections: Socket[]; close(): Promise<void> }> {
  const connections: Socket[] = [];
  const server: Server = createServer({ pauseOnConnect: true }, (socket) => {
    socket.on("error", () => {});
    connections.push(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of connections) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Events of realistic size (about 1 KB as RFC 5424 over TCP), numbered from `from`. */
const events = (from: number, n: number): StoredEvent[] =>
  Array.from({ length: n }, (_, i) => withChanges({ seq: from + i, id: `00000000-0000-4000-8000-${String(from + i).padStart(12, "0")}`, details: { note: "x".repeat(300), n: from + i } }));

const stallMs = 1000;

describe("syslog over TCP: a peer that stops reading and never closes", () => {
  let sender: EventSender | undefined;
  let receiver: Awaited<ReturnType<typeof startStuckReceiver>> | undefined;
  afterEach(async () => {
    await sender?.close();
    await receiver?.close();
  });

  it(`fails the batch within spec.timeout (${stallMs} ms) of the last write progress, and measures what the kernel buffers swallowed`, async () => {
    receiver = await startStuckReceiver();
    const spec = logForwardingDestinationSpecSchema.parse({ syslog: { host: "127.0.0.1", port: receiver.port, transport: "tcp" }, timeout: "1s" });
    sender = createSender(spec, { secrets: secretSourceFrom({}), egress: testEgress, destinationUid: "dead-peer", hostname: "trailkeeper-test" });
    const batchSize = 500;
    let acceptedEvents = 0;
    let acceptedBytes = 0;
    let failure: { error: unknown; ms: number } | undefined;
    for (let round = 0; round < 200 && failure === undefined; round++) {
      const batch = events(acceptedEvents + 1, batchSize);
      const started = performance.now();
      try {
        await sender.send(batch, new AbortController().signal);
        acceptedEvents += batch.length;
        acceptedBytes += batch.reduce((n, e) => n + sender!.encodedSize(e), 0);
      } catch (error) {
        failure = { error, ms: performance.now() - started };
      }
    }
    expect(failure, "a batch must fail once the buffers are full").toBeDefined();
    expect(String((failure!.error as Error).message)).toMatch(/^syslog receiver 127\.0\.0\.1:\d+: timed out: no write progress for 1000 ms with \d+ bytes unsent/);
    // Loopback takes bytes instantly until the buffers are full, so the failing batch's time is the stall bound itself.
    expect(failure!.ms).toBeGreaterThanOrEqual(stallMs - 50);
    expect(failure!.ms).toBeLessThan(stallMs + 2000); // slack for a loaded machine
    // Everything "delivered" sits in kernel buffers (ours and the receiver's): the loss window of plain TCP/TLS.
    console.info(`dead-peer loss window: ${acceptedBytes} bytes = ${acceptedEvents} events of ${Math.round(acceptedBytes / acceptedEvents)} bytes`);
    expect(acceptedBytes).toBeGreaterThan(0);
    expect(acceptedBytes).toBeLessThan(64 * 1024 * 1024);
  });

  it("does not take a slow receiver that keeps reading for dead, however long the batch takes", async () => {
    let received = 0;
    const server: Server = createServer((socket) => {
      socket.on("error", () => {});
      // At most 64 KiB per 20 ms (≤ 3.2 MB/s): the batch takes seconds, yet the kernel frees half of our send
      // buffer (2 MiB at most, what wakes a writer) in well under spec.timeout.
      socket.on("data", (chunk: Buffer) => {
        received += chunk.length;
        socket.pause();
        setTimeout(() => socket.resume(), 20);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    receiver = { port: (server.address() as AddressInfo).port, connections: [], close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
    const spec = logForwardingDestinationSpecSchema.parse({ syslog: { host: "127.0.0.1", port: receiver.port, transport: "tcp" }, timeout: "2s" });
    sender = createSender(spec, { secrets: secretSourceFrom({}), egress: testEgress, destinationUid: "slow-peer", hostname: "trailkeeper-test" });
    const batch = events(1, 14_000); // about 18 MB: far more than the kernel buffers hold
    const bytes = batch.reduce((n, e) => n + sender!.encodedSize(e), 0);
    const started = performance.now();
    await sender.send(batch, new AbortController().signal);
    expect(performance.now() - started).toBeGreaterThan(2000); // longer than spec.timeout, yet not failed: progress counts
    await sender.close();
    sender = undefined;
    await expect.poll(() => received, { timeout: 30_000 }).toBe(bytes);
  });

  it(`keeps TCP keepalive probes ${keepAliveIdleMs / 1000} s after the connection went idle`, async () => {
    receiver = await startStuckReceiver();
    const spec = logForwardingDestinationSpecSchema.parse({ syslog: { host: "127.0.0.1", port: receiver.port, transport: "tcp" }, timeout: "1s" });
    sender = createSender(spec, { secrets: secretSourceFrom({}), egress: testEgress, destinationUid: "keepalive", hostname: "trailkeeper-test" });
    await sender.send(events(1, 1), new AbortController().signal);
    // ss shows the kernel's timer on our end of the connection: keepalive, due within the idle time.
    const line = execFileSync("ss", ["-tno", "state", "established", `dst 127.0.0.1:${receiver.port}`], { encoding: "utf8" });
    const timer = /timer:\(keepalive,(?:(\d+)min)?([\d.]+)(ms|sec)/.exec(line);
    expect(timer, line).not.toBeNull();
    const dueMs = Number(timer![1] ?? 0) * 60_000 + Number(timer![2]) * (timer![3] === "sec" ? 1000 : 1);
    expect(dueMs).toBeGreaterThan(0);
    expect(dueMs).toBeLessThanOrEqual(keepAliveIdleMs);
  });
});
