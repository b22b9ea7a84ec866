/**
 * Helpers of the forwarding benchmark (bench/forwarding.ts): the receiver child process, destination specs as a
 * user would write them, and one throughput run — a real Forwarder with a real sender from `createSender`, its
 * cursor rewound to 0, timed until the cursor is at the head and the receiver has every event.
 */
import { fork, type ChildProcess } from "node:child_process";
import type { EventFormat } from "../../core/src/formats/formats.ts";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { Session } from "node:inspector/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseDuration } from "../../core/src/crd/duration.ts";
import { logForwardingDestinationSpecSchema, type LogForwardingDestinationSpec, type LogForwardingDestinationSpecInput } from "../../core/src/crd/log-forwarding-destination.ts";
import { createPool, type Pool } from "../../core/src/db/pool.ts";
import { createSender } from "../../core/src/destinations/registry.ts";
import { Forwarder, type ForwarderStats } from "../../core/src/forwarding/forwarder.ts";
import type { EventSender } from "../../core/src/forwarding/types.ts";
import { deleteCursor, ensureCursor, rewindCursor } from "../../core/src/forwarding/store.ts";
import { silentLogger } from "../../core/src/log.ts";
import type { EgressPolicy } from "../../core/src/net/egress.ts";
import { secretSourceFrom } from "../../core/src/secrets.ts";
import { cpuDelta, cpuSnapshot, type CpuSnapshot } from "./cpu.ts";
import { loadProfile, summarise, type ProfileSummary } from "./cpuprofile.ts";
import { otherCpu, processSnapshot, type OtherCpu } from "./forwarding-others.ts";
import type { ReceiverConfig, ReceiverKind, ReceiverReply, ReceiverRequest, ReceiverStats } from "./forwarding-protocol.ts";

export type { ReceiverKind, ReceiverStats };

/** The local receivers listen on loopback, which production refuses; nothing else is relaxed. */
export const benchEgress: EgressPolicy = { allowLinkLocal: false, allowLoopback: true, allowCloudMetadata: false };

const credentials = {
  webhookSecret: `whsec_${Buffer.alloc(32, "trailkeeper-bench-secret").toString("base64")}`,
  hecToken: "11111111-2222-3333-4444-555555555555",
  datadogApiKey: "0123456789abcdef0123456789abcdef",
  esApiKey: Buffer.from("bench-key:bench-secret").toString("base64"),
};
const secrets = secretSourceFrom({
  wh: { secret: credentials.webhookSecret },
  hec: { token: credentials.hecToken },
  dd: { "api-key": credentials.datadogApiKey },
  es: { "api-key": credentials.esApiKey },
});

export interface Receiver {
  kind: ReceiverKind;
  url: string;
  port: number;
  /** The receiver's node process, and rsyslogd when that is the receiver. */
  pid: number;
  externalPid?: number;
  /** Where the receiver's CPU profile lands (BENCH_CPU_PROF=1), after stop(). */
  cpuProfileDir?: string;
  stats(): Promise<ReceiverStats>;
  times(): Promise<Extract<ReceiverReply, { type: "times" }>>;
  stop(): Promise<void>;
}

/** Forks bench/lib/forwarding-receiver.ts for one destination kind and waits until it listens. */
export async function startReceiver(kind: ReceiverKind, tenant: string, opts: { recordTimes?: boolean; cpuProfile?: boolean } = {}): Promise<Receiver> {
  const config: ReceiverConfig = { kind, tenant, recordTimes: opts.recordTimes ?? false, ...credentials };
  const cpuProfileDir = opts.cpuProfile ? mkdtempSync(path.join("/tmp", "trailkeeper-bench-receiver-prof-")) : undefined;
  const child: ChildProcess = fork(path.join(import.meta.dirname, "forwarding-receiver.ts"), [JSON.stringify(config)], {
    serialization: "advanced",
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    execArgv: cpuProfileDir ? ["--cpu-prof", `--cpu-prof-dir=${cpuProfileDir}`] : [],
  });
  const waiting: ((m: ReceiverReply) => void)[] = [];
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once("exit", () => {
    exited = true;
    resolve();
  }));
  child.on("message", (m) => waiting.shift()?.(m as ReceiverReply));
  const next = <T extends ReceiverReply["type"]>(type: T, request?: ReceiverRequest) =>
    new Promise<Extract<ReceiverReply, { type: T }>>((resolve, reject) => {
      if (exited) return reject(new Error(`the ${kind} receiver has exited`));
      waiting.push((m) => (m.type === type ? resolve(m as Extract<ReceiverReply, { type: T }>) : reject(new Error(`expected ${type}, got ${m.type}`))));
      if (request) child.send(request);
    });
  const ready = await Promise.race([next("ready"), exit.then(() => Promise.reject(new Error(`the ${kind} receiver exited during start-up`)))]);
  return {
    kind,
    url: ready.url,
    port: ready.port,
    pid: child.pid!,
    ...(ready.externalPid ? { externalPid: ready.externalPid } : {}),
    ...(cpuProfileDir ? { cpuProfileDir } : {}),
    stats: async () => (await next("stats", { type: "stats" })).stats,
    times: () => next("times", { type: "times" }),
    async stop() {
      if (!exited) child.send({ type: "stop" } satisfies ReceiverRequest);
      await Promise.race([exit, sleep(10_000).then(() => child.kill("SIGKILL"))]);
    },
  };
}

export interface DeliveryChoice {
  batchSize: number;
  batchBytes: number;
}

/** The destination block a user would write for each receiver (plain http / tcp: the receivers are local). */
export function specFor(receiver: Receiver, delivery: Partial<DeliveryChoice>, format?: EventFormat): LogForwardingDestinationSpec {
  const { url, port } = receiver;
  const blocks: Record<ReceiverKind, Omit<LogForwardingDestinationSpecInput, "delivery">> = {
    webhook: { webhook: { url: `${url}/hooks/audit`, signingSecretRef: { name: "wh", key: "secret" }, allowInsecureHttp: true } },
    splunkHec: { splunkHec: { url, tokenSecretRef: { name: "hec", key: "token" }, allowInsecureHttp: true } },
    datadog: { datadog: { endpoint: url, apiKeySecretRef: { name: "dd", key: "api-key" }, allowInsecureHttp: true } },
    elasticsearch: { elasticsearch: { url, index: "trailkeeper-audit", apiKeySecretRef: { name: "es", key: "api-key" }, allowInsecureHttp: true } },
    "syslog-rsyslog": { syslog: { host: "127.0.0.1", port, transport: "tcp" } },
    "syslog-node": { syslog: { host: "127.0.0.1", port, transport: "tcp" } },
  };
  return logForwardingDestinationSpecSchema.parse({ ...blocks[receiver.kind], ...(format === undefined ? {} : { format }), delivery: { maxBackoff: "1s", ...delivery } });
}

/** Wall time the forwarder spent inside its sender: encoding events (while batching) and sending requests. */
export interface SenderTiming {
  encodeMs: number;
  /** Sum of encodedSize() answers: bytes on the wire before compression, for events/request and bytes/event. */
  bytes: number;
  encodedEvents: number;
  /** Building the body (gzip, signing), the request, the receiver's work and its answer. */
  sendMs: number;
  sends: number;
}

/** The sender with a stopwatch around each call; the Forwarder itself is used unchanged. */
function timed(sender: EventSender, t: SenderTiming): EventSender {
  return {
    limits: sender.limits,
    encodedSize(event) {
      const s = performance.now();
      const size = sender.encodedSize(event);
      t.encodeMs += performance.now() - s;
      t.bytes += size;
      t.encodedEvents += 1;
      return size;
    },
    async send(batch, signal) {
      const s = performance.now();
      try {
        return await sender.send(batch, signal);
      } finally {
        t.sendMs += performance.now() - s;
        t.sends += 1;
      }
    },
    close: () => sender.close(),
  };
}

/** A Forwarder wired as the operator's supervisor wires one (tuning from spec.delivery, poll interval from flushInterval). */
export function forwarderFor(pool: Pool, uid: string, tenant: string, spec: LogForwardingDestinationSpec, onProgress?: (s: ForwarderStats) => void, timing?: SenderTiming): Forwarder {
  const { delivery } = spec;
  const sender = createSender(spec, { secrets, egress: benchEgress, destinationUid: uid, hostname: "trailkeeper-bench" });
  return new Forwarder({
    pool,
    uid,
    tenant,
    resource: `bench/${uid.slice(0, 8)}`,
    filter: {},
    sender: timing ? timed(sender, timing) : sender,
    tuning: { batchSize: delivery.batchSize, batchBytes: delivery.batchBytes, maxBackoffMs: parseDuration(delivery.maxBackoff), onPermanentError: delivery.onPermanentError },
    log: silentLogger,
    pollIntervalMs: Math.max(1000, parseDuration(delivery.flushInterval) * 5),
    ...(onProgress ? { onProgress } : {}),
  });
}

export interface ThroughputResult {
  kind: ReceiverKind;
  /** spec.format of the run; undefined: the kind's default. */
  format?: EventFormat | undefined;
  delivery: DeliveryChoice;
  events: number;
  /** From forwarder start until the cursor reached the head and the receiver had every event. */
  seconds: number;
  /** From forwarder start until the cursor reached the head (the destination acknowledged everything). */
  cursorSeconds: number;
  receiver: ReceiverStats;
  forwarder: ForwarderStats;
  /** Where the forwarder's wall time went until the cursor reached the head; the rest is reading and committing. */
  timing: SenderTiming;
  cpu: { forwarder: number; receiver: number; postgres: number; machine: number };
  /** CPU of processes outside the benchmark during the run (a busy neighbour makes the numbers too low). */
  others: OtherCpu;
  /** BENCH_CPU_PROF=1: where the forwarder's main thread and the receiver's spent the run. */
  profiles?: { forwarder: ProfileSummary; receiver?: ProfileSummary };
}

/**
 * One throughput run: a fresh receiver, a new cursor rewound to 0 (the whole preloaded tenant is the backlog), and
 * the forwarder timed until the cursor is at `head` and the receiver has counted `head` distinct events.
 */
export async function throughputRun(o: { url: string; postmasterPid?: number; tenant: string; head: number; kind: ReceiverKind; format?: EventFormat | undefined; delivery: DeliveryChoice; cpuProfile: boolean; timeoutMs: number }): Promise<ThroughputResult> {
  const receiver = await startReceiver(o.kind, o.tenant, { cpuProfile: o.cpuProfile });
  const pool = createPool(o.url, 10);
  const uid = randomUUID();
  let forwarder: Forwarder | undefined;
  const profiler = o.cpuProfile ? await startProfiler() : undefined;
  try {
    const spec = specFor(receiver, o.delivery, o.format);
    await ensureCursor(pool, uid, o.tenant, `bench/${o.kind}`);
    await rewindCursor(pool, uid, 0);
    let reached: (ms: number) => void = () => {};
    const atHead = new Promise<number>((resolve) => (reached = resolve));
    const timing: SenderTiming = { encodeMs: 0, bytes: 0, encodedEvents: 0, sendMs: 0, sends: 0 };
    let timingAtHead = timing;
    forwarder = forwarderFor(pool, uid, o.tenant, spec, (s) => {
      if (s.cursorSeq < o.head || timingAtHead !== timing) return;
      timingAtHead = { ...timing };
      reached(Date.now());
    }, timing);
    const cpu0 = cpuOf(receiver, o.postmasterPid);
    const procs0 = processSnapshot();
    const t0 = Date.now();
    forwarder.start();
    const f = forwarder;
    const watch = new AbortController();
    const cursorAt = await Promise.race([atHead, failureOrTimeout(() => f.stats, o.timeoutMs, watch.signal)]).finally(() => watch.abort());
    let stats = await receiver.stats();
    for (const deadline = Date.now() + 30_000; stats.unique < o.head && Date.now() < deadline; stats = await receiver.stats()) await sleep(10);
    const cpu = cpuDelta(cpu0, cpuOf(receiver, o.postmasterPid));
    const others = otherCpu(procs0, processSnapshot(), [process.pid, ...(o.postmasterPid ? [o.postmasterPid] : [])]);
    const forwarderProfile = await profiler?.stop();
    const end = Math.max(cursorAt, stats.lastReceiptMs);
    await stopNow(forwarder);
    forwarder = undefined;
    await receiver.stop();
    const receiverProfile = receiver.cpuProfileDir ? summarise(loadProfile(receiver.cpuProfileDir)) : undefined;
    return {
      kind: o.kind, format: o.format, delivery: o.delivery, events: o.head, seconds: (end - t0) / 1000, cursorSeconds: (cursorAt - t0) / 1000, receiver: stats, forwarder: f.stats, timing: timingAtHead,
      cpu: { forwarder: cpu.client, receiver: cpu.server, postgres: cpu.postgres, machine: cpu.machine }, others,
      ...(forwarderProfile ? { profiles: { forwarder: summarise(forwarderProfile), ...(receiverProfile ? { receiver: receiverProfile } : {}) } } : {}),
    };
  } finally {
    await profiler?.stop().catch(() => {});
    if (forwarder) await stopNow(forwarder).catch(() => {});
    await receiver.stop();
    if (receiver.cpuProfileDir) rmSync(receiver.cpuProfileDir, { recursive: true, force: true });
    await deleteCursor(pool, uid).catch(() => {});
    await pool.end();
  }
}

/**
 * Forwarder.stop() wakes the loop only if it is asleep; asked mid-step, the loop finishes the step and then sleeps a
 * whole poll interval (5 s here) before it sees the abort. Waking it until it stops keeps the benchmark short.
 */
export async function stopNow(forwarder: Forwarder): Promise<void> {
  const kick = setInterval(() => forwarder.wake(), 5);
  try {
    await forwarder.stop();
  } finally {
    clearInterval(kick);
  }
}

/** CPU of this process (the forwarder), the receiver (its node process plus rsyslogd) and Postgres. */
function cpuOf(receiver: Receiver, postmasterPid: number | undefined): CpuSnapshot {
  const s = cpuSnapshot(receiver.pid, postmasterPid);
  if (receiver.externalPid) s.server += cpuSnapshot(receiver.externalPid, undefined).server;
  return s;
}

/**
 * Rejects when the forwarder stops or fails to deliver (a benchmark run has no failures to retry), or on timeout;
 * resolves with -1 once `signal` aborts (the run ended well).
 */
async function failureOrTimeout(stats: () => ForwarderStats, timeoutMs: number, signal: AbortSignal): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (!signal.aborted) {
    const s = stats();
    if (s.failed > 0 || s.deadLettered > 0 || s.state === "stopped" || s.state === "gone" || s.state === "paused") {
      throw new Error(`forwarder ${s.state}: ${s.failed} failed attempts, ${s.deadLettered} dead-lettered, cursor ${s.cursorSeq}; last error: ${s.lastError}`);
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms with the cursor at ${s.cursorSeq}`);
    await sleep(50);
  }
  return -1;
}

type Profile = Parameters<typeof summarise>[0];

/** The V8 CPU profiler on this process through the inspector, for one run (what `node --cpu-prof` would record). */
async function startProfiler(): Promise<{ stop(): Promise<Profile | undefined> }> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  let stopped = false;
  return {
    async stop() {
      if (stopped) return undefined;
      stopped = true;
      const { profile } = await session.post("Profiler.stop");
      session.disconnect();
      return profile as unknown as Profile;
    },
  };
}
