/**
 * One local destination for the forwarding benchmark, run as a child process (`fork`) so that the receiver does
 * not share the forwarder's event loop. The HTTP kinds are the protocol test servers of test/protocol-servers
 * (they authenticate, verify webhook signatures, gunzip, parse and answer as the real services do); syslog is
 * either a real rsyslogd (imtcp, octet counting, RFC 5424 parser, omfile) or a bare node:net server that only
 * splits octet-counted frames. Every event received is checked off by `seq`: count, duplicates, order.
 *
 * Started by bench/lib/forwarding.ts with the receiver config as JSON in argv[2]; talks over the IPC channel.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startDatadogServer } from "../../test/protocol-servers/datadog-server.ts";
import { startElasticsearchServer } from "../../test/protocol-servers/elasticsearch-server.ts";
import type { HttpTestServer, RecordedRequest } from "../../test/protocol-servers/http-test-server.ts";
import { startSplunkHecServer } from "../../test/protocol-servers/splunk-hec-server.ts";
import { startWebhookReceiver } from "../../test/protocol-servers/webhook-receiver.ts";
import { rsyslogd } from "../../test/support/rsyslog.ts";
import type { ReceiverConfig, ReceiverReply, ReceiverRequest, ReceiverStats } from "./forwarding-protocol.ts";

const config = JSON.parse(process.argv[2] ?? "{}") as ReceiverConfig;

/** Arrival bookkeeping: every seq once, each one more than the one before (seq order across requests). */
const seen = { bits: new Uint8Array(1 << 16) };
const stats: Omit<ReceiverStats, "cpuSeconds"> = {
  received: 0, unique: 0, duplicates: 0, outOfOrder: 0, wrongTenant: 0, unparsable: 0, refused: 0, firstError: "",
  firstSeq: 0, lastSeq: 0, maxSeq: 0, firstReceiptMs: 0, lastReceiptMs: 0, requests: 0,
};
/** Something the receiver refused or could not read: counted, and the first one kept for the report. */
function refuse(why: string): void {
  stats.refused += 1;
  if (stats.firstError === "") stats.firstError = why;
}
/** With config.recordTimes: seq, receipt (epoch ms) and the event's receivedAt (epoch ms), per event received. */
const times = { seq: [] as number[], receipt: [] as number[], receivedAt: [] as number[] };

function note(seq: number, tenant: string | undefined, receivedAt: string | undefined, receiptMs: number): void {
  if (!Number.isInteger(seq) || seq <= 0) {
    stats.unparsable += 1;
    return;
  }
  if (tenant !== config.tenant) stats.wrongTenant += 1;
  if (stats.received === 0) {
    stats.firstSeq = seq;
    stats.firstReceiptMs = receiptMs;
  } else if (seq !== stats.lastSeq + 1) stats.outOfOrder += 1;
  stats.received += 1;
  stats.lastSeq = seq;
  stats.lastReceiptMs = receiptMs;
  stats.maxSeq = Math.max(stats.maxSeq, seq);
  if (seq >= seen.bits.length) {
    const bigger = new Uint8Array(Math.max(seq + 1, seen.bits.length * 2));
    bigger.set(seen.bits);
    seen.bits = bigger;
  }
  if (seen.bits[seq] === 1) stats.duplicates += 1;
  else {
    seen.bits[seq] = 1;
    stats.unique += 1;
  }
  if (config.recordTimes) {
    times.seq.push(seq);
    times.receipt.push(receiptMs);
    times.receivedAt.push(receivedAt === undefined ? Number.NaN : Date.parse(receivedAt));
  }
}

interface EventLike {
  seq: number;
  tenant?: string;
  receivedAt?: string;
}

/** The seq, tenant and receivedAt of an event in any format: stored event, OCSF object, or CEF record. */
function eventLikeOf(value: unknown): EventLike {
  if (typeof value === "string") {
    const field = (key: string) => new RegExp(`(?:^| )${key}=(\\S*)`).exec(value)?.[1];
    return { seq: Number(field("cn1")), tenant: field("cs1") };
  }
  const ocsf = value as { metadata?: { sequence: number; tenant_uid: string; logged_time: number } };
  if (ocsf.metadata?.sequence !== undefined) return { seq: ocsf.metadata.sequence, tenant: ocsf.metadata.tenant_uid, receivedAt: new Date(ocsf.metadata.logged_time).toISOString() };
  return value as EventLike;
}

/**
 * Hooks a protocol test server: each request, once its body is read (the moment it is recorded), is stamped with
 * the time, and right after the server's synchronous handler has stored what it accepted, `drain` checks those
 * events off and empties the server's records (a benchmark run would otherwise keep every body in memory).
 */
function hookRequests(server: HttpTestServer, drain: (receiptMs: number) => void): void {
  Object.defineProperty(server.requests, "push", {
    value: (_req: RecordedRequest) => {
      const receiptMs = Date.now();
      stats.requests += 1;
      queueMicrotask(() => drain(receiptMs));
      return 0;
    },
  });
}

async function startHttp(): Promise<{ url: string; close(): Promise<void> }> {
  switch (config.kind) {
    case "webhook": {
      const server = await startWebhookReceiver({ secret: config.webhookSecret });
      hookRequests(server, (t) => {
        for (const d of server.received.splice(0)) {
          for (const e of (d.payload as { events: unknown[] }).events.map(eventLikeOf)) note(e.seq, e.tenant, e.receivedAt, t);
        }
        for (const r of server.rejected.splice(0)) refuse(`webhook receiver rejected a delivery: ${r.why}`);
      });
      return server;
    }
    case "splunkHec": {
      const server = await startSplunkHecServer({ tokens: { [config.hecToken]: {} } });
      hookRequests(server, (t) => {
        for (const e of server.events.splice(0)) {
          const event = eventLikeOf(e.envelope.event);
          note(event.seq, event.tenant, event.receivedAt, t);
        }
      });
      return server;
    }
    case "datadog": {
      const server = await startDatadogServer({ apiKeys: [config.datadogApiKey] });
      hookRequests(server, (t) => {
        for (const l of server.logs.splice(0)) {
          const event = eventLikeOf(l.log.trailkeeper ?? l.log.ocsf);
          note(event.seq, event.tenant, event.receivedAt, t);
        }
      });
      return server;
    }
    case "elasticsearch": {
      const server = await startElasticsearchServer();
      server.apiKeys.set(config.esApiKey, { username: "forwarder", authenticationType: "api_key", indices: [{ names: ["trailkeeper-*"], privileges: ["create_doc"] }] });
      hookRequests(server, (t) => {
        for (const docs of server.documents.values()) {
          for (const d of docs.splice(0)) {
            const tk = d._source.trailkeeper === undefined ? eventLikeOf(d._source) : (d._source.trailkeeper as EventLike);
            note(tk.seq, tk.tenant, tk.receivedAt ?? (d._source.event as { created?: string }).created, t);
          }
        }
        for (const statuses of server.bulkItemStatuses.splice(0)) if (statuses.some((s) => s >= 300)) refuse(`_bulk item statuses ${statuses.filter((s) => s >= 300).join(",")}`);
      });
      return server;
    }
    default:
      throw new Error(`not an HTTP receiver: ${config.kind}`);
  }
}

const sdParam = (text: string, name: string): string | undefined => new RegExp(` ${name}="([^"]*)"`).exec(text)?.[1];

/** A bare TCP server that splits RFC 6587 octet-counted frames (`LEN SP MSG`) and reads seq/tenant from the SD. */
async function startFrameCounter(): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const server = createServer((socket) => {
    let pending: Buffer = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      const t = Date.now();
      const buf = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let off = 0;
      for (;;) {
        const sp = buf.indexOf(0x20, off);
        if (sp < 0 || sp - off > 10) break;
        const len = Number(buf.toString("latin1", off, sp));
        if (!/^[1-9][0-9]*$/.test(buf.toString("latin1", off, sp))) {
          refuse(`bad octet count ${JSON.stringify(buf.toString("latin1", off, sp))}; connection dropped`);
          socket.destroy();
          return;
        }
        if (buf.length < sp + 1 + len) break;
        // Only the header and SD are needed; MSG (the event JSON) follows the SD's closing "] ".
        const head = buf.toString("utf8", sp + 1, Math.min(sp + 1 + len, sp + 1 + 600));
        const seq = Number(sdParam(head, "seq"));
        const receivedAt = config.recordTimes ? /"receivedAt":"([^"]+)"/.exec(buf.toString("utf8", sp + 1, sp + 1 + len))?.[1] : undefined;
        note(seq, sdParam(head, "tenant"), receivedAt, t);
        off = sp + 1 + len;
      }
      pending = buf.subarray(off);
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: `tcp://127.0.0.1:${port}`, port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/**
 * A real rsyslogd with the leanest useful configuration: imtcp (octet counting is on by default), the default
 * parser chain (RFC 5424 first), and one omfile action writing each message's STRUCTURED-DATA as rsyslog parsed it.
 * A message that fell back to the RFC 3164 parser has "-" there and counts as unparsable. The file is tailed here.
 */
async function startRsyslogReceiver(): Promise<{ url: string; port: number; pid: number; poll(): void; close(): Promise<void> }> {
  if (!existsSync(rsyslogd)) throw new Error(`${rsyslogd} not found: run test/support/install-syslog.sh (as root) first`);
  const dir = mkdtempSync("/tmp/trailkeeper-bench-rsyslog-");
  mkdirSync(join(dir, "work"));
  const out = join(dir, "sd.log");
  writeFileSync(join(dir, "rsyslog.conf"), `global(workDirectory="${join(dir, "work")}" maxMessageSize="64k")
module(load="imtcp" maxSessions="10")
input(type="imtcp" port="0" address="127.0.0.1" listenPortFileName="${join(dir, "tcp.port")}" ruleset="audit")
template(name="sd" type="string" string="%structured-data%\\n")
ruleset(name="audit") {
  action(type="omfile" file="${out}" template="sd")
}
`);
  const child: ChildProcess = spawn(rsyslogd, ["-n", "-f", join(dir, "rsyslog.conf"), "-i", join(dir, "rsyslogd.pid")], { stdio: ["ignore", "inherit", "inherit"] });
  const portFile = join(dir, "tcp.port");
  const deadline = Date.now() + 10_000;
  while (!existsSync(portFile) || readFileSync(portFile, "utf8").trim() === "") {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error("rsyslogd did not start");
    await sleep(25);
  }
  const port = Number(readFileSync(portFile, "utf8").trim());
  let offset = 0;
  let partial = "";
  const chunk = Buffer.alloc(1 << 20);
  const poll = () => {
    if (!existsSync(out)) return;
    const fd = openSync(out, "r");
    try {
      const t = Date.now();
      for (let n = readSync(fd, chunk, 0, chunk.length, offset); n > 0; n = readSync(fd, chunk, 0, chunk.length, offset)) {
        offset += n;
        const lines = (partial + chunk.toString("utf8", 0, n)).split("\n");
        partial = lines.pop()!;
        for (const line of lines) note(Number(sdParam(line, "seq")), sdParam(line, "tenant"), undefined, t);
      }
    } finally {
      closeSync(fd);
    }
  };
  const timer = setInterval(poll, 20);
  return {
    url: `tcp://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    poll,
    async close() {
      clearInterval(timer);
      child.kill("SIGTERM");
      await Promise.race([new Promise((r) => child.once("exit", r)), sleep(5000)]);
      if (child.exitCode === null) child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function main(): Promise<void> {
  let receiver: { url: string; port?: number; pid?: number; poll?(): void; close(): Promise<void> };
  if (config.kind === "syslog-rsyslog") receiver = await startRsyslogReceiver();
  else if (config.kind === "syslog-node") receiver = await startFrameCounter();
  else receiver = await startHttp();
  const send = (m: ReceiverReply) => process.send!(m);
  process.on("message", (raw) => {
    const m = raw as ReceiverRequest;
    if (m.type === "stats") {
      receiver.poll?.();
      const cpu = process.cpuUsage();
      send({ type: "stats", stats: { ...stats, cpuSeconds: (cpu.user + cpu.system) / 1e6 } });
    } else if (m.type === "times") {
      send({ type: "times", seq: Float64Array.from(times.seq), receipt: Float64Array.from(times.receipt), receivedAt: Float64Array.from(times.receivedAt) });
    } else if (m.type === "stop") {
      void receiver.close().then(() => process.exit(0));
    }
  });
  send({ type: "ready", url: receiver.url, port: receiver.port ?? Number(new URL(receiver.url).port), ...(receiver.pid ? { externalPid: receiver.pid } : {}) });
}

main().catch((err: unknown) => {
  process.stderr.write(`[receiver ${config.kind}] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
