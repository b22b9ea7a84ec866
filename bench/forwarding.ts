/**
 * Forwarding benchmark (issue 5). Prints, in one run:
 *  - throughput per destination type: BENCH_FWD_EVENTS (default 200,000) events preloaded for one tenant with COPY,
 *    then for each destination a real Forwarder (sender from createSender, spec parsed with the CRD schema) with
 *    its cursor rewound to 0, timed until the cursor is at the head and the local receiver — a child process —
 *    has every event; events/s = events / seconds. Receivers: the protocol test servers of test/protocol-servers
 *    (webhook, Splunk HEC, Datadog, Elasticsearch _bulk), a real rsyslogd over TCP, and a bare node:net counter of
 *    octet-counted frames (the syslog sender's own ceiling).
 *  - end-to-end latency at a steady BENCH_FWD_RATE (1000) events/s through the API server (a child process), 50
 *    events per request, for BENCH_FWD_LATENCY_SECONDS (30), to a webhook receiver, per event.
 * Every run checks that each event arrived exactly once, in seq order. Not a timed test. `node bench/forwarding.ts`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { totalmem } from "node:os";
import { machineLoad } from "./lib/cpu.ts";
import { checkpoint, freshBenchDatabase } from "./lib/database.ts";
import { throughputRun, type DeliveryChoice, type ReceiverKind, type ReceiverStats, type ThroughputResult } from "./lib/forwarding.ts";
import { latencyRun, type LatencyResult } from "./lib/forwarding-latency.ts";
import { generateTenantEvents } from "./lib/generate.ts";
import { startServerProcess } from "./lib/server.ts";
import { fmtInt, fmtMs, intEnv, markdownTable, percentile, table } from "./lib/stats.ts";
import type { ProfileSummary } from "./lib/cpuprofile.ts";
import { rsyslogInstalled } from "../test/support/rsyslog.ts";
import { eventFormats, kindCarries, type EventFormat } from "../core/src/formats/formats.ts";

const allKinds: ReceiverKind[] = ["webhook", "splunkHec", "datadog", "elasticsearch", "syslog-rsyslog", "syslog-node"];
const list = (name: string, def: string) => (process.env[name] ?? def).split(",").map((s) => s.trim()).filter(Boolean);
const config = {
  events: intEnv("BENCH_FWD_EVENTS", 200_000),
  kinds: list("BENCH_FWD_KINDS", allKinds.join(",")) as ReceiverKind[],
  /** Formats to run each kind in (issue #13), e.g. `default,ocsf,cef`; a kind runs only the formats it carries. */
  formats: list("BENCH_FWD_FORMATS", "default"),
  phases: list("BENCH_FWD_PHASES", "throughput,latency"),
  /** Forwarded once to the frame counter before the measured runs, so that no run pays for JIT warm-up alone. */
  warmupEvents: intEnv("BENCH_FWD_WARMUP_EVENTS", 20_000),
  batchSize: process.env.BENCH_FWD_BATCH_SIZE ? intEnv("BENCH_FWD_BATCH_SIZE", 1) : undefined,
  batchBytes: process.env.BENCH_FWD_BATCH_BYTES ? intEnv("BENCH_FWD_BATCH_BYTES", 1) : undefined,
  rate: intEnv("BENCH_FWD_RATE", 1000),
  perRequest: intEnv("BENCH_FWD_REQUEST_EVENTS", 50),
  latencySeconds: intEnv("BENCH_FWD_LATENCY_SECONDS", 30),
  latencyWarmupSeconds: intEnv("BENCH_FWD_LATENCY_WARMUP_SECONDS", 2),
  /** Latency-phase delivery settings; unset: the CRD defaults (batchSize 500, batchBytes 1 MiB, flushInterval 1s). */
  latencyBatchSize: process.env.BENCH_FWD_LATENCY_BATCH_SIZE ? intEnv("BENCH_FWD_LATENCY_BATCH_SIZE", 1) : undefined,
  /** BENCH_CPU_PROF=1: profile the forwarder (this process, via the inspector) and the receiver of each run. */
  cpuProfile: process.env.BENCH_CPU_PROF === "1",
};
const targets = { eventsPerSecond: 20_000, p99Ms: 1000 };

/**
 * Delivery settings per protocol, as an operator would set them for a high-volume tenant: the largest request each
 * protocol is comfortable with. Webhook and syslog have no protocol limit, so the CRD's maxima of batchBytes (5 MiB)
 * bound them; Datadog caps at 1000 logs and 5 MB; the HEC sender cuts requests at 900 KB (Splunk Cloud's 1 MB limit),
 * so a read of 2000 events becomes several requests; Elasticsearch documents are the largest (ECS fields plus the
 * original event), and 2000 of them stay below 5 MiB.
 */
const deliveryFor: Record<ReceiverKind, DeliveryChoice> = {
  webhook: { batchSize: 2000, batchBytes: 5_242_880 },
  splunkHec: { batchSize: 2000, batchBytes: 5_242_880 },
  datadog: { batchSize: 1000, batchBytes: 5_242_880 },
  elasticsearch: { batchSize: 2000, batchBytes: 5_242_880 },
  "syslog-rsyslog": { batchSize: 2000, batchBytes: 5_242_880 },
  "syslog-node": { batchSize: 2000, batchBytes: 5_242_880 },
};
const labels: Record<ReceiverKind, [string, string]> = {
  webhook: ["webhook", "Standard Webhooks receiver (test server)"],
  splunkHec: ["Splunk HEC", "HEC test server"],
  datadog: ["Datadog", "Logs API v2 test server (gunzip)"],
  elasticsearch: ["Elasticsearch", "_bulk test server"],
  "syslog-rsyslog": ["syslog TCP", "rsyslogd (imtcp → omfile)"],
  "syslog-node": ["syslog TCP", "node:net frame counter"],
};

/** The formats of config.formats this kind carries; `default` (undefined) is the kind's own default. */
function formatsToRun(kind: ReceiverKind): (EventFormat | undefined)[] {
  const destination = kind.startsWith("syslog") ? "syslog" : (kind as Exclude<ReceiverKind, "syslog-rsyslog" | "syslog-node">);
  return config.formats.flatMap((f) => (f === "default" ? [undefined] : eventFormats.includes(f as EventFormat) && kindCarries(destination, f as EventFormat) ? [f as EventFormat] : []));
}

const started = performance.now();
const log = (msg: string) => process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${msg}\n`);
const tenant = "bench-fwd";

/** The problems a run's receiver and forwarder report; empty when every event arrived once, in seq order. */
function lossCheck(r: ReceiverStats, expected: number, firstSeq: number): string[] {
  const problems: string[] = [];
  if (r.unique !== expected) problems.push(`${fmtInt(r.unique)} distinct events received of ${fmtInt(expected)}`);
  if (r.duplicates) problems.push(`${r.duplicates} duplicates`);
  if (r.outOfOrder) problems.push(`${r.outOfOrder} arrivals out of seq order`);
  if (r.firstSeq !== firstSeq || r.lastSeq !== firstSeq + expected - 1) problems.push(`seq ${r.firstSeq}..${r.lastSeq}, expected ${firstSeq}..${firstSeq + expected - 1}`);
  if (r.wrongTenant || r.unparsable || r.refused) problems.push(`${r.wrongTenant} wrong tenant, ${r.unparsable} unparsable, ${r.refused} refused (${r.firstError})`);
  return problems;
}

async function main(): Promise<void> {
  const unknown = config.kinds.filter((k) => !allKinds.includes(k));
  if (unknown.length) throw new Error(`BENCH_FWD_KINDS: unknown ${unknown.join(", ")}; known: ${allKinds.join(", ")}`);
  const machine = { ...machineLoad(), memoryGiB: totalmem() / 2 ** 30, node: process.version, cpu: cpuModel() };
  log(`load average before start: ${machine.load1} on ${machine.cpus} CPUs (${machine.cpu})`);
  const db = await freshBenchDatabase();
  const failures: string[] = [];
  try {
    log(`PostgreSQL ${db.serverVersion} (${db.mode}); ${JSON.stringify(db.settings)}`);
    const results: ThroughputResult[] = [];
    if (config.phases.includes("throughput")) {
      log(`preloading ${fmtInt(config.events)} events for tenant ${tenant} (COPY)`);
      await generateTenantEvents(db.pool, db.url, tenant, config.events);
      await db.pool.query("VACUUM ANALYZE events");
      const sizes = (await db.pool.query<{ b: number }>("SELECT avg(pg_column_size(e.*))::int AS b FROM events e WHERE tenant = $1", [tenant])).rows[0]!.b;
      log(`preloaded; average row ${sizes} bytes`);
      if (config.warmupEvents > 0) {
        log(`warm-up: forwarding ${fmtInt(Math.min(config.warmupEvents, config.events))} events to the frame counter (not measured)`);
        await throughputRun({ url: db.url, tenant, head: Math.min(config.warmupEvents, config.events), kind: "syslog-node", delivery: deliveryFor["syslog-node"], cpuProfile: false, timeoutMs: 120_000 });
      }
      for (const [kind, format] of config.kinds.flatMap((k) => formatsToRun(k).map((f) => [k, f] as const))) {
        if (kind === "syslog-rsyslog" && !rsyslogInstalled()) {
          log("syslog-rsyslog: SKIPPED, rsyslogd is not installed (make test-deps)");
          continue;
        }
        const delivery = { batchSize: config.batchSize ?? deliveryFor[kind].batchSize, batchBytes: config.batchBytes ?? deliveryFor[kind].batchBytes };
        await checkpoint(db.pool);
        const name = `${kind}${format === undefined ? "" : ` ${format}`}`;
        log(`${name}: forwarding ${fmtInt(config.events)} events (batchSize ${delivery.batchSize}, batchBytes ${fmtInt(delivery.batchBytes)}) …`);
        const r = await throughputRun({ url: db.url, ...(db.postmasterPid ? { postmasterPid: db.postmasterPid } : {}), tenant, head: config.events, kind, format, delivery, cpuProfile: config.cpuProfile, timeoutMs: Math.max(120_000, config.events) });
        const problems = lossCheck(r.receiver, config.events, 1);
        if (problems.length) failures.push(`${name}: ${problems.join("; ")}`);
        log(`${name}: ${fmtInt(r.events / r.seconds)} events/s (${r.seconds.toFixed(2)} s; cursor at head after ${r.cursorSeconds.toFixed(2)} s; ${r.timing.sends} requests)${problems.length ? ` LOSS CHECK FAILED: ${problems.join("; ")}` : "; every event once, in seq order"}`);
        results.push(r);
      }
    }
    let latency: LatencyResult | undefined;
    if (config.phases.includes("latency")) {
      const server = await startServerProcess({ databaseUrl: db.url, workDir: db.workDir, cpuProfile: false, env: { LOG_LEVEL: "warn" } });
      try {
        await checkpoint(db.pool);
        log(`latency: ${config.rate} events/s as ${config.perRequest} events per request for ${config.latencySeconds} s, forwarded to a webhook receiver …`);
        latency = await latencyRun({
          url: db.url, ...(db.postmasterPid ? { postmasterPid: db.postmasterPid } : {}), server, tenant: "bench-fwd-latency",
          rate: config.rate, perRequest: config.perRequest, seconds: config.latencySeconds, warmupSeconds: config.latencyWarmupSeconds,
          delivery: config.latencyBatchSize ? { batchSize: config.latencyBatchSize } : {},
        });
        const problems = lossCheck(latency.receiver, latency.events, latency.firstSeq);
        if (problems.length) failures.push(`latency: ${problems.join("; ")}`);
        log(`latency: p50 ${fmtMs(percentile(latency.sinceReceivedAt, 50))} ms, p99 ${fmtMs(percentile(latency.sinceReceivedAt, 99))} ms${problems.length ? ` LOSS CHECK FAILED: ${problems.join("; ")}` : "; every event once, in seq order"}`);
      } finally {
        await server.stop();
      }
    }
    report(db, machine, results, latency, failures);
  } finally {
    await db.close();
  }
  if (failures.length) {
    process.stderr.write(`\n[bench] loss check FAILED:\n  ${failures.join("\n  ")}\n`);
    process.exit(1);
  }
}

function cpuModel(): string {
  return /model name\s*:\s*(.+)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ?? "unknown CPU";
}

const met = (ok: boolean) => (ok ? "met" : "MISSED");
/** CPU seconds as a share of what the machine's CPUs offered over `wall` seconds. */
const share = (cpuSeconds: number, wall: number) => `${((100 * cpuSeconds) / (wall * cpus)).toFixed(0)}%`;
const cpus = machineLoad().cpus;
const perEvent = (seconds: number, events: number) => (Number.isFinite(seconds) ? fmtInt((seconds * 1e6) / events) : "–");

/** Shares of the forwarder's wall time (start to cursor at head): encoding, in send(), and the rest (database). */
function wallSplit(r: ThroughputResult): string {
  const wall = r.cursorSeconds * 1000;
  const pct = (ms: number) => `${Math.round((100 * ms) / wall)}%`;
  return `${pct(r.timing.encodeMs)} / ${pct(r.timing.sendMs)} / ${pct(wall - r.timing.encodeMs - r.timing.sendMs)}`;
}

type Machine = ReturnType<typeof machineLoad> & { memoryGiB: number; node: string; cpu: string };

function report(db: Awaited<ReturnType<typeof freshBenchDatabase>>, machine: Machine, results: ThroughputResult[], latency: LatencyResult | undefined, failures: string[]): void {
  const about = `${machine.cpus} CPUs (${machine.cpu}), ${machine.memoryGiB.toFixed(1)} GiB, Node.js ${machine.node}, PostgreSQL ${db.serverVersion} (${db.mode}; fsync=${db.settings.fsync}, synchronous_commit=${db.settings.synchronous_commit}); 1-minute load average ${machine.load1} before the run and ${machineLoad().load1} after`;
  process.stdout.write(`\nForwarding benchmark — ${about}\n`);
  const md = process.env.BENCH_MARKDOWN === "1";
  const out: string[] = [];
  if (results.length) {
    const header = ["destination", "receiver", "batchSize / batchBytes", "events", "seconds", "events/s", "target", "", "requests / writes", "events/request", "bytes/event", "wall: encode / send / read+commit", "forwarder µs/event", "receiver µs/event", "postgres µs/event", "other processes' CPU", "each event once, in order"];
    const rows = results.map((r) => {
      const rate = r.events / r.seconds;
      const problems = lossCheck(r.receiver, r.events, 1);
      return [
        `${labels[r.kind][0]}${r.format === undefined ? "" : ` (${r.format})`}`, labels[r.kind][1], `${r.delivery.batchSize} / ${fmtInt(r.delivery.batchBytes)}`, fmtInt(r.events), r.seconds.toFixed(2), fmtInt(rate),
        `≥ ${fmtInt(targets.eventsPerSecond)}`, met(rate >= targets.eventsPerSecond), fmtInt(r.timing.sends), fmtInt(r.events / r.timing.sends), fmtInt(r.timing.bytes / r.timing.encodedEvents), wallSplit(r), perEvent(r.cpu.forwarder, r.events), perEvent(r.cpu.receiver, r.events), perEvent(r.cpu.postgres, r.events), share(r.others.seconds, r.seconds),
        problems.length ? `NO: ${problems.join("; ")}` : "yes",
      ];
    });
    out.push(`Throughput: ${fmtInt(config.events)} preloaded events forwarded from cursor 0 to a local receiver (a child process)`, md ? markdownTable(header, rows) : table(header, rows), "");
    for (const r of results.filter((x) => x.others.seconds > 0.1 * x.seconds * machine.cpus)) {
      out.push(`WARNING: processes outside the benchmark used ${share(r.others.seconds, r.seconds)} of the CPUs during ${r.kind} (${r.others.top.join("; ")}): rerun when the machine is idle.`, "");
    }
  }
  if (latency) {
    const l = latency;
    const header = ["latency per event", "events", "p50 ms", "p99 ms", "max ms", "target", ""];
    const p = (xs: Float64Array, q: number) => fmtMs(percentile(xs, q));
    const max = (xs: Float64Array) => fmtMs(xs.reduce((a, b) => Math.max(a, b), -Infinity));
    const rows = [
      ["receipt − event receivedAt (set just before commit: an upper bound)", fmtInt(l.measured), p(l.sinceReceivedAt, 50), p(l.sinceReceivedAt, 99), max(l.sinceReceivedAt), `p99 < ${fmtInt(targets.p99Ms)}`, met(percentile(l.sinceReceivedAt, 99) < targets.p99Ms)],
      ["receipt − 201 response at the client (after commit: a lower bound)", fmtInt(l.measured), p(l.since201, 50), p(l.since201, 99), max(l.since201), "", ""],
      ["ingest request (send → 201)", fmtInt(l.ingest.length), p(l.ingest, 50), p(l.ingest, 99), max(l.ingest), "", ""],
    ];
    const problems = lossCheck(l.receiver, l.events, l.firstSeq);
    out.push(
      `Latency: ${fmtInt(l.events)} events at ${fmtInt(l.events / l.ingestSeconds)} events/s (${config.perRequest} per request, schedule slipped at most ${fmtMs(l.maxSendLagMs)} ms) through the API server; webhook destination with batchSize ${l.delivery.batchSize}, batchBytes ${fmtInt(l.delivery.batchBytes)}, flushInterval ${l.delivery.flushInterval}; first ${config.latencyWarmupSeconds} s left out of the percentiles; ${l.receiver.requests} webhook requests (${(l.events / l.receiver.requests).toFixed(1)} events each)`,
      md ? markdownTable(header, rows) : table(header, rows),
      `CPU over the phase: bench (load + forwarder) ${l.cpu.bench.toFixed(2)} s, API server ${l.cpu.server.toFixed(2)} s, receiver ${l.cpu.receiver.toFixed(2)} s, postgres ${l.cpu.postgres.toFixed(2)} s; processes outside the benchmark ${share(l.others.seconds, l.ingestSeconds)} of the CPUs${l.others.top.length ? ` (${l.others.top.join("; ")})` : ""}; each event once, in seq order: ${problems.length ? `NO: ${problems.join("; ")}` : "yes"}`,
      "",
    );
  }
  if (process.env.BENCH_RESULTS_JSON) writeResults(process.env.BENCH_RESULTS_JSON, db, machine, results, latency);
  for (const r of results) if (r.profiles) out.push(profileText(`${r.kind}: forwarder (bench process)`, r.profiles.forwarder), ...(r.profiles.receiver ? [profileText(`${r.kind}: receiver process`, r.profiles.receiver)] : []));
  if (failures.length) out.push(`LOSS CHECK FAILED: ${failures.join("; ")}`);
  process.stdout.write(`\n${out.join("\n")}\n`);
}

/** BENCH_RESULTS_JSON=<file>: the numbers as JSON, with 5 ms histograms of the latencies (for plots and comparisons). */
function writeResults(file: string, db: Awaited<ReturnType<typeof freshBenchDatabase>>, machine: Machine, results: ThroughputResult[], latency: LatencyResult | undefined): void {
  const histogram = (xs: Float64Array) => {
    const counts: Record<string, number> = {};
    for (const x of xs) {
      const bucket = `${Math.floor(x / 5) * 5}`;
      counts[bucket] = (counts[bucket] ?? 0) + 1;
    }
    return counts;
  };
  const lat = (xs: Float64Array) => ({ p50: percentile(xs, 50), p90: percentile(xs, 90), p99: percentile(xs, 99), max: percentile(xs, 100), histogram5ms: histogram(xs) });
  writeFileSync(file, `${JSON.stringify({
    machine, postgres: db.serverVersion, settings: db.settings, config, targets,
    throughput: results.map((r) => ({ ...r, profiles: undefined, eventsPerSecond: r.events / r.seconds })),
    latency: latency && { ...latency, sinceReceivedAt: lat(latency.sinceReceivedAt), since201: lat(latency.since201), ingest: lat(latency.ingest) },
  }, null, 2)}\n`);
}

function profileText(title: string, s: ProfileSummary, top = 15): string {
  const pct = (ms: number) => `${((100 * ms) / s.windowMs).toFixed(1)}%`;
  const rows = (xs: [string, number][]) => xs.slice(0, top).map(([k, v]) => [k, fmtInt(v), pct(v)]);
  return [
    `${title}: main thread busy ${fmtInt(s.busyMs)} ms of ${fmtInt(s.windowMs)} ms (${pct(s.busyMs)})`,
    table(["self time by code area", "ms", "% of wall"], rows(s.byArea)),
    table(["self time by function", "ms", "% of wall"], rows(s.byFunction.filter(([k]) => !k.startsWith("(idle)")))),
    table(["inclusive time, project functions", "ms", "% of wall"], rows(s.inclusive)),
    "",
  ].join("\n\n");
}

main().catch((err: unknown) => {
  process.stderr.write(`\n[bench] FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
