/**
 * The latency phase of the forwarding benchmark: a steady ingest through the API server (a child process) while an
 * operator-less forwarder in this process, woken by LISTEN/NOTIFY like the operator's, delivers to a webhook
 * receiver (another child process) that stamps the arrival of every event.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { createPool } from "../../core/src/db/pool.ts";
import type { ForwarderStats } from "../../core/src/forwarding/forwarder.ts";
import { AppendNotifier } from "../../core/src/forwarding/notifier.ts";
import { deleteCursor, ensureCursor } from "../../core/src/forwarding/store.ts";
import { silentLogger } from "../../core/src/log.ts";
import { cpuDelta, cpuSnapshot, type CpuSnapshot } from "./cpu.ts";
import { makeEventInputs } from "./events.ts";
import { otherCpu, processSnapshot, type OtherCpu } from "./forwarding-others.ts";
import { forwarderFor, specFor, startReceiver, stopNow, type DeliveryChoice, type ReceiverStats } from "./forwarding.ts";
import { httpClient } from "./load.ts";
import { createTenant, type BenchServer } from "./server.ts";

export interface LatencyOptions {
  url: string;
  postmasterPid?: number;
  server: BenchServer;
  tenant: string;
  /** Events per second, sent as `perRequest` events every perRequest/rate seconds. */
  rate: number;
  perRequest: number;
  seconds: number;
  /** Events sent in the first warmupSeconds are delivered and checked but left out of the percentiles. */
  warmupSeconds: number;
  /** Delivery settings of the webhook destination; unset fields keep the CRD defaults. */
  delivery: Partial<DeliveryChoice>;
}

export interface LatencyResult {
  events: number;
  measured: number;
  /** Wall seconds of the ingest schedule and the rate it achieved. */
  ingestSeconds: number;
  /** Latest a request left its slot in the schedule (the load generator falling behind), ms. */
  maxSendLagMs: number;
  /** Per measured event: receipt at the receiver minus the event's receivedAt (set just before the commit). */
  sinceReceivedAt: Float64Array;
  /** Per measured event: receipt minus the arrival of the 201 that acknowledged it (the commit is before that). */
  since201: Float64Array;
  /** Ingest request latencies (send to 201), ms. */
  ingest: Float64Array;
  firstSeq: number;
  receiver: ReceiverStats;
  forwarder: ForwarderStats;
  delivery: { batchSize: number; batchBytes: number; flushInterval: string };
  cpu: { bench: number; server: number; receiver: number; postgres: number; machine: number };
  others: OtherCpu;
}

export async function latencyRun(o: LatencyOptions): Promise<LatencyResult> {
  const key = (await createTenant(o.server, o.tenant, ["events:write"]))!;
  const pool = createPool(o.url, 10);
  const notifier = new AppendNotifier(o.url, silentLogger);
  const receiver = await startReceiver("webhook", o.tenant, { recordTimes: true });
  const uid = randomUUID();
  const spec = specFor(receiver, o.delivery);
  const cursor = await ensureCursor(pool, uid, o.tenant, "bench/latency");
  const forwarder = forwarderFor(pool, uid, o.tenant, spec);
  const http = httpClient(o.server.url, 16);
  try {
    await notifier.start();
    const unsubscribe = notifier.subscribe(o.tenant, () => forwarder.wake());
    forwarder.start();

    const requests = Math.round((o.rate * o.seconds) / o.perRequest);
    const intervalMs = (1000 * o.perRequest) / o.rate;
    const inputs = makeEventInputs(requests * o.perRequest, 11);
    const bodies = Array.from({ length: requests }, (_, i) => Buffer.from(JSON.stringify({ events: inputs.slice(i * o.perRequest, (i + 1) * o.perRequest) })));
    const firstSeq = cursor.cursorSeq + 1;
    const lastSeq = cursor.cursorSeq + requests * o.perRequest;
    const ackedAt = new Float64Array(lastSeq + 1).fill(Number.NaN);
    const ingest = new Float64Array(requests);
    const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
    const post = async (i: number) => {
      const t = performance.now();
      const res = await http.request({ path: "/v1/events", method: "POST", headers, body: bodies[i]! });
      const text = await res.body.text();
      const now = Date.now();
      ingest[i] = performance.now() - t;
      if (res.statusCode !== 201) throw new Error(`ingest request ${i}: HTTP ${res.statusCode} ${text.slice(0, 300)}`);
      for (const e of (JSON.parse(text) as { events: { seq: number }[] }).events) ackedAt[e.seq] = now;
    };

    const cpu0 = snapshot(o, receiver.pid);
    const procs0 = processSnapshot();
    const start = Date.now() + 200;
    let maxSendLagMs = 0;
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < requests; i++) {
      const wait = start + i * intervalMs - Date.now();
      if (wait > 0) await sleep(wait);
      else maxSendLagMs = Math.max(maxSendLagMs, -wait);
      inflight.push(post(i));
    }
    await Promise.all(inflight);
    const ingestSeconds = (Date.now() - start) / 1000;
    let stats = await receiver.stats();
    for (const deadline = Date.now() + 60_000; stats.unique < requests * o.perRequest && Date.now() < deadline; stats = await receiver.stats()) await sleep(20);
    const cpu1 = snapshot(o, receiver.pid);
    const c = cpuDelta(cpu0.all, cpu1.all);
    const others = otherCpu(procs0, processSnapshot(), [process.pid, ...(o.postmasterPid ? [o.postmasterPid] : [])]);
    unsubscribe();

    const times = await receiver.times();
    const warmupLast = cursor.cursorSeq + Math.round((o.warmupSeconds * 1000) / intervalMs) * o.perRequest;
    const sinceReceivedAt: number[] = [];
    const since201: number[] = [];
    for (let i = 0; i < times.seq.length; i++) {
      const seq = times.seq[i]!;
      if (seq <= warmupLast || seq > lastSeq) continue;
      sinceReceivedAt.push(times.receipt[i]! - times.receivedAt[i]!);
      since201.push(times.receipt[i]! - ackedAt[seq]!);
    }
    return {
      events: requests * o.perRequest, measured: sinceReceivedAt.length, ingestSeconds, maxSendLagMs,
      sinceReceivedAt: Float64Array.from(sinceReceivedAt), since201: Float64Array.from(since201), ingest, firstSeq,
      receiver: stats, forwarder: forwarder.stats,
      delivery: { batchSize: spec.delivery.batchSize, batchBytes: spec.delivery.batchBytes, flushInterval: spec.delivery.flushInterval },
      cpu: { bench: c.client, server: c.server, receiver: cpu1.receiver - cpu0.receiver, postgres: c.postgres, machine: c.machine }, others,
    };
  } finally {
    await stopNow(forwarder);
    await notifier.stop();
    await http.close();
    await receiver.stop();
    await deleteCursor(pool, uid).catch(() => {});
    await pool.end();
  }
}

/** This process (load generator and forwarder), the API server, Postgres, the machine; and the receiver apart. */
function snapshot(o: LatencyOptions, receiverPid: number): { all: CpuSnapshot; receiver: number } {
  return { all: cpuSnapshot(o.server.pid, o.postmasterPid), receiver: cpuSnapshot(receiverPid, undefined).server };
}
